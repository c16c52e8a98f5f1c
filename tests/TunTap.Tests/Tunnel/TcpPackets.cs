using System.Buffers.Binary;
using TunTap.Devices;
using TunTap.Wire;

namespace TunTap.Tests.Tunnel;

/// <summary>Builds TCP packets (TUN: IP first; TAP: Ethernet first) and checks their checksums, for the offload tests.</summary>
internal static class TcpPackets
{
    public const ushort Identification = 0x1234;
    public const uint Sequence = 0xFFFF_F000; // wraps within a super packet

    /// <summary>A TCP packet with 12 bytes of options (a timestamp), the given payload and flags; checksums filled.</summary>
    public static byte[] Build(bool ipv6, bool tap, ReadOnlySpan<byte> payload, TcpFlags flags, uint sequence = Sequence, ushort identification = Identification)
    {
        var link = tap ? 14 : 0;
        var ipHeader = ipv6 ? 40 : 20;
        const int TcpHeader = 32;
        var packet = new byte[link + ipHeader + TcpHeader + payload.Length];
        if (tap)
        {
            byte[] ethernet = [2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0, 0];
            BinaryPrimitives.WriteUInt16BigEndian(ethernet.AsSpan(12), ipv6 ? (ushort)0x86DD : (ushort)0x0800);
            ethernet.CopyTo(packet, 0);
        }

        var ip = packet.AsSpan(link);
        if (ipv6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)(TcpHeader + payload.Length));
            ip[6] = 6;
            ip[7] = 64;
            ip[8] = 0xFD;
            ip[23] = 1;
            ip[24] = 0xFD;
            ip[39] = 2;
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + TcpHeader + payload.Length));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], identification);
            ip[6] = 0x40;
            ip[8] = 64;
            ip[9] = 6;
            byte[] addresses = [10, 9, 0, 2, 10, 9, 0, 1];
            addresses.CopyTo(ip[12..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        }

        var tcp = ip[ipHeader..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, 40000);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], 5201);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[8..], 777);
        tcp[12] = (TcpHeader / 4) << 4;
        tcp[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 512);
        byte[] options = [1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6];
        options.CopyTo(tcp[20..]);
        payload.CopyTo(tcp[TcpHeader..]);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Finish(InternetChecksum.Add(PseudoSum(packet, tap, ipv6, tcp.Length), tcp)));
        return packet;
    }

    /// <summary>The virtio-net header the kernel would put in front of a super packet of <paramref name="mss"/>-byte segments.</summary>
    public static VirtioNetHeader SuperHeader(bool ipv6, bool tap, int mss)
    {
        var tcp = (tap ? 14 : 0) + (ipv6 ? 40 : 20);
        return new VirtioNetHeader(VirtioNetHeaderFlags.NeedsChecksum, ipv6 ? VirtioGsoType.TcpV6 : VirtioGsoType.TcpV4, (ushort)(tcp + 32), (ushort)mss, (ushort)tcp, 16);
    }

    public static int TcpOffset(bool ipv6, bool tap) => (tap ? 14 : 0) + (ipv6 ? 40 : 20);

    public static ulong PseudoSum(ReadOnlySpan<byte> packet, bool tap, bool ipv6, int tcpLength)
    {
        var ip = packet[(tap ? 14 : 0)..];
        var addresses = ipv6 ? ip.Slice(8, 32) : ip.Slice(12, 8);
        return InternetChecksum.Add(InternetChecksum.Add(0, addresses), (uint)tcpLength) + 6;
    }

    public static bool TcpChecksumValid(ReadOnlySpan<byte> packet, bool tap, bool ipv6)
    {
        var tcp = packet[TcpOffset(ipv6, tap)..];
        return InternetChecksum.IsValid(InternetChecksum.Add(PseudoSum(packet, tap, ipv6, tcp.Length), tcp));
    }

    /// <summary>Prefixes a blank virtio-net header.</summary>
    public static byte[] WithBlankHeader(ReadOnlySpan<byte> packet) => [.. new byte[VirtioNetHeader.Size], .. packet];

    /// <summary>Prefixes <paramref name="header"/>.</summary>
    public static byte[] WithHeader(VirtioNetHeader header, ReadOnlySpan<byte> packet)
    {
        var bytes = new byte[VirtioNetHeader.Size + packet.Length];
        header.Write(bytes);
        packet.CopyTo(bytes.AsSpan(VirtioNetHeader.Size));
        return bytes;
    }
}
