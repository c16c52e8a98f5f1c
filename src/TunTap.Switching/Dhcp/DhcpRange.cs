namespace TunTap.Switching.Dhcp;

/// <summary>The addresses a DHCP server hands out: <see cref="Start"/> to <see cref="End"/>, both included.</summary>
/// <param name="Start">The first address, read big-endian.</param>
/// <param name="End">The last address, read big-endian (not below <see cref="Start"/>).</param>
public readonly record struct DhcpRange(uint Start, uint End)
{
    /// <summary>How many addresses the range holds.</summary>
    public long Count => (long)End - Start + 1;

    /// <summary>True when <paramref name="address"/> is in the range.</summary>
    public bool Contains(uint address) => address >= Start && address <= End;

    /// <summary>Parses <c>START-END</c>, e.g. <c>10.0.0.100-10.0.0.200</c>.</summary>
    public static bool TryParse(string? text, out DhcpRange range, out string error)
    {
        range = default;
        var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (text is null || dash < 0)
        {
            error = $"'{text}' is not START-END (e.g. 10.0.0.100-10.0.0.200)";
            return false;
        }

        if (!DhcpText.TryParseIpv4(text.AsSpan(0, dash), out var start) || !DhcpText.TryParseIpv4(text.AsSpan(dash + 1), out var end))
        {
            error = $"'{text}' is not START-END with two IPv4 addresses (e.g. 10.0.0.100-10.0.0.200)";
            return false;
        }

        if (end < start)
        {
            error = $"'{text}' ends before it starts";
            return false;
        }

        range = new DhcpRange(start, end);
        error = "";
        return true;
    }

    /// <summary><c>START-END</c>.</summary>
    public override string ToString() => $"{DhcpLease.ToIPAddress(Start)}-{DhcpLease.ToIPAddress(End)}";
}
