using System.Globalization;
using System.Net;
using TunTap.Wire;

namespace TunTap.Switching.Dhcp;

/// <summary>Parsing of the text forms used by options and the lease file.</summary>
internal static class DhcpText
{
    /// <summary>Parses <c>aa:bb:cc:dd:ee:ff</c> (or with dashes).</summary>
    public static bool TryParseMac(ReadOnlySpan<char> text, out MacAddress mac)
    {
        mac = default;
        if (text.Length != 17)
        {
            return false;
        }

        ulong value = 0;
        for (var i = 0; i < MacAddress.Length; i++)
        {
            if (i > 0 && text[(3 * i) - 1] is not (':' or '-'))
            {
                return false;
            }

            if (!byte.TryParse(text.Slice(3 * i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                return false;
            }

            value = (value << 8) | b;
        }

        mac = MacAddress.FromValue(value);
        return true;
    }

    /// <summary>Parses a dotted-quad IPv4 address into its big-endian value.</summary>
    public static bool TryParseIpv4(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        if (!IPAddress.TryParse(text, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || text.Count('.') != 3)
        {
            return false;
        }

        address = DhcpLease.ToValue(ip);
        return true;
    }

    /// <summary>
    /// Parses a duration: seconds (<c>3600</c>) or a number with a unit (<c>45s</c>, <c>30m</c>, <c>1h</c>, <c>2d</c>).
    /// </summary>
    public static bool TryParseDuration(ReadOnlySpan<char> text, out TimeSpan duration)
    {
        duration = default;
        if (text.IsEmpty)
        {
            return false;
        }

        var unit = 1L;
        var digits = text;
        switch (text[^1])
        {
            case 's': digits = text[..^1]; break;
            case 'm': unit = 60; digits = text[..^1]; break;
            case 'h': unit = 3600; digits = text[..^1]; break;
            case 'd': unit = 86400; digits = text[..^1]; break;
            default: break;
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > uint.MaxValue / unit)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(count * unit);
        return true;
    }
}
