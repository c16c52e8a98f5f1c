using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TunTap;

/// <summary>
/// An interface address with its prefix length, as written in CIDR notation
/// (<c>10.0.0.1/24</c>, <c>fd00::1/64</c>). Unlike <see cref="IPNetwork"/> the host bits are kept.
/// </summary>
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>True for an IPv4 address.</summary>
    public bool IsIPv4 => Address.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>The largest prefix length for the address family: 32 or 128.</summary>
    public int MaxPrefixLength => IsIPv4 ? 32 : 128;

    /// <summary>The network this address is on, with host bits cleared.</summary>
    public IPNetwork Network => new(Mask(Address, PrefixLength), PrefixLength);

    /// <summary>
    /// Parses <c>ADDRESS/PREFIX</c>; a bare address gets a host prefix (/32 or /128).
    /// </summary>
    public static bool TryParse(string? text, out InterfaceAddress result)
    {
        result = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) ||
            address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) ||
            addressText.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max))
        {
            return false;
        }

        result = new InterfaceAddress(address, prefix);
        return true;
    }

    /// <summary>Parses CIDR notation or throws a <see cref="TunTapException"/> that names the bad text.</summary>
    public static InterfaceAddress Parse(string text) =>
        TryParse(text, out var result)
            ? result
            : throw new TunTapException($"'{text}' is not an address in CIDR notation", "write it as ADDRESS/PREFIX, e.g. 10.0.0.1/24 or fd00::1/64");

    /// <summary>True when <paramref name="other"/> lies in this address's network.</summary>
    public bool Contains(IPAddress other) => Network.Contains(other);

    /// <summary>Clears the bits of <paramref name="address"/> past <paramref name="prefixLength"/>.</summary>
    [SuppressMessage("Performance", "CA1857", Justification = "Not a hot path.")]
    public static IPAddress Mask(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var i = 0; i < length; i++)
        {
            var keep = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF00 >> keep);
        }

        return new IPAddress(bytes);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Address}/{PrefixLength}";
}
