using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>A static lease: <paramref name="Mac"/> always gets <paramref name="Address"/>, and no other client does.</summary>
/// <param name="Mac">The client's hardware address.</param>
/// <param name="Address">Its address, read big-endian (inside the subnet; it need not be inside the range).</param>
public readonly record struct DhcpReservation(MacAddress Mac, uint Address)
{
    /// <summary>Parses <c>MAC=IP</c>, e.g. <c>52:54:00:12:34:56=10.0.0.50</c>.</summary>
    public static bool TryParse(string? text, out DhcpReservation reservation, out string error)
    {
        reservation = default;
        var equals = text?.IndexOf('=', StringComparison.Ordinal) ?? -1;
        if (text is null || equals < 0
            || !DhcpText.TryParseMac(text.AsSpan(0, equals), out var mac)
            || !DhcpText.TryParseIpv4(text.AsSpan(equals + 1), out var address))
        {
            error = $"'{text}' is not MAC=IP (e.g. 52:54:00:12:34:56=10.0.0.50)";
            return false;
        }

        if (mac.IsMulticast || mac.Value == 0)
        {
            error = $"'{text}': {mac} is not a station's address";
            return false;
        }

        reservation = new DhcpReservation(mac, address);
        error = "";
        return true;
    }

    /// <summary><c>MAC=IP</c>.</summary>
    public override string ToString() => $"{Mac}={DhcpLease.ToIPAddress(Address)}";
}
