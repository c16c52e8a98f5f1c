using System.Buffers.Binary;
using System.Net;

namespace TunTap.IntegrationTests.Devices;

/// <summary>Minimal IPv4/UDP building and parsing by offsets, independent of the library's Wire views.</summary>
internal static class Ipv4Udp
{
    public const int HeaderLength = 20 + 8;

    public static byte[] Build(IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> payload, ushort id = 1)
    {
        var packet = new byte[HeaderLength + payload.Length];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), id);
        packet[8] = 64;
        packet[9] = 17;
        source.TryWriteBytes(packet.AsSpan(12, 4), out _);
        destination.TryWriteBytes(packet.AsSpan(16, 4), out _);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), HeaderChecksum(packet.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), (ushort)(8 + payload.Length));
        // UDP checksum 0: "not computed", allowed for IPv4.
        payload.CopyTo(packet.AsSpan(HeaderLength));
        return packet;
    }

    public static ushort HeaderChecksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (var i = 0; i < header.Length; i += 2)
        {
            if (i != 10)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
            }
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    /// <summary>The UDP payload of an IPv4/UDP packet to <paramref name="destination"/>:<paramref name="port"/>, or null.</summary>
    public static byte[]? UdpPayloadTo(ReadOnlySpan<byte> packet, IPAddress destination, int port)
    {
        if (packet.Length < HeaderLength || packet[0] >> 4 != 4 || packet[9] != 17)
        {
            return null;
        }

        var ihl = (packet[0] & 0x0f) * 4;
        if (!new IPAddress(packet.Slice(16, 4)).Equals(destination) || BinaryPrimitives.ReadUInt16BigEndian(packet[(ihl + 2)..]) != port)
        {
            return null;
        }

        var udpLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(ihl + 4)..]);
        return packet.Slice(ihl + 8, udpLength - 8).ToArray();
    }
}
