using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TunTap.WireGuard.Uapi;

/// <summary>
/// Parses the body of a UAPI <c>set=1</c> request (the <c>key=value</c> lines between the
/// operation line and the empty line), as documented at https://www.wireguard.com/xplatform/. Pure:
/// nothing is applied; any input gives either a request or a <see cref="UapiErrno"/> code, never an
/// exception. The error codes are the ones wireguard-go answers for the same mistakes.
/// </summary>
public static class UapiParser
{
    /// <summary>Parses <paramref name="lines"/> into <paramref name="request"/>.</summary>
    /// <returns><see cref="UapiErrno.None"/>, or the errno to reply with (then <paramref name="request"/> is null).</returns>
    public static int TryParseSet(IEnumerable<string> lines, out UapiSetRequest? request)
    {
        ArgumentNullException.ThrowIfNull(lines);
        request = null;
        var result = new UapiSetRequest();
        UapiPeerChange? peer = null;
        foreach (var line in lines)
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                return UapiErrno.Protocol;
            }

            var key = line.AsSpan(0, equals);
            var value = line.AsSpan(equals + 1);
            int error;
            if (key.SequenceEqual("public_key"))
            {
                if (!WireGuardKey.TryParseHex(value, out var publicKey))
                {
                    return UapiErrno.Invalid;
                }

                peer = new UapiPeerChange(publicKey);
                result.Peers.Add(peer);
                continue;
            }

            error = peer is null ? ParseDeviceLine(result, key, value) : ParsePeerLine(peer, key, value);
            if (error != UapiErrno.None)
            {
                return error;
            }
        }

        request = result;
        return UapiErrno.None;
    }

    private static int ParseDeviceLine(UapiSetRequest request, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        switch (key)
        {
            case "private_key":
                if (!WireGuardKey.TryParseHex(value, out var privateKey))
                {
                    return UapiErrno.Invalid;
                }

                request.PrivateKey = privateKey;
                return UapiErrno.None;
            case "listen_port":
                if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                {
                    return UapiErrno.Invalid;
                }

                request.ListenPort = port;
                return UapiErrno.None;
            case "fwmark":
                if (!uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mark))
                {
                    return UapiErrno.Invalid;
                }

                request.FirewallMark = mark;
                return UapiErrno.None;
            case "replace_peers":
                if (!value.SequenceEqual("true"))
                {
                    return UapiErrno.Invalid;
                }

                request.ReplacePeers = true;
                return UapiErrno.None;
            default:
                return UapiErrno.Invalid;
        }
    }

    private static int ParsePeerLine(UapiPeerChange peer, ReadOnlySpan<char> key, ReadOnlySpan<char> value)
    {
        switch (key)
        {
            case "remove":
                peer.Remove = true;
                return value.SequenceEqual("true") ? UapiErrno.None : UapiErrno.Invalid;
            case "update_only":
                peer.UpdateOnly = true;
                return value.SequenceEqual("true") ? UapiErrno.None : UapiErrno.Invalid;
            case "replace_allowed_ips":
                peer.ReplaceAllowedIps = true;
                return value.SequenceEqual("true") ? UapiErrno.None : UapiErrno.Invalid;
            case "protocol_version":
                return value.SequenceEqual("1") ? UapiErrno.None : UapiErrno.Invalid;
            case "preshared_key":
                if (!WireGuardKey.TryParseHex(value, out var psk))
                {
                    return UapiErrno.Invalid;
                }

                peer.PresharedKey = psk;
                return UapiErrno.None;
            case "persistent_keepalive_interval":
                if (!ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                {
                    return UapiErrno.Invalid;
                }

                peer.PersistentKeepalive = TimeSpan.FromSeconds(seconds);
                return UapiErrno.None;
            case "endpoint":
                if (!TryParseEndpoint(value, out var endpoint))
                {
                    return UapiErrno.Invalid;
                }

                peer.Endpoint = endpoint;
                return UapiErrno.None;
            case "allowed_ip":
                if (!TryParseNetwork(value, out var network))
                {
                    return UapiErrno.Invalid;
                }

                peer.AllowedIps.Add(network);
                return UapiErrno.None;
            default:
                return UapiErrno.Invalid;
        }
    }

    /// <summary><c>a.b.c.d:port</c> or <c>[v6]:port</c>; the port is required.</summary>
    public static bool TryParseEndpoint(ReadOnlySpan<char> text, out IPEndPoint? endpoint)
    {
        endpoint = null;
        int colon;
        IPAddress? address;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0 || !IPAddress.TryParse(text[1..close], out address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }

            colon = close + 1;
        }
        else
        {
            colon = text.IndexOf(':');
            if (colon < 0 || text.LastIndexOf(':') != colon || !IPAddress.TryParse(text[..colon], out address) || address.AddressFamily != AddressFamily.InterNetwork)
            {
                return false;
            }
        }

        if (!ushort.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return false;
        }

        endpoint = new IPEndPoint(address, port);
        return true;
    }

    /// <summary><c>address/prefix</c> (host bits are cleared, as the kernel and wireguard-go do).</summary>
    public static bool TryParseNetwork(ReadOnlySpan<char> text, out IPNetwork network)
    {
        network = default;
        var slash = text.IndexOf('/');
        if (slash < 0 || text[..slash].Contains('%') || !IPAddress.TryParse(text[..slash], out var address))
        {
            return false;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > bits)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        bytes = bytes[..length];
        for (var i = 0; i < length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF00 >> keep);
        }

        network = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }
}
