using System.Buffers.Binary;
using System.Numerics;
using TunTap.Emulation;

namespace TunTap.Tests.Emulation;

public sealed class ValidChecksumCorruptionTests
{
    private const int PayloadLength = 100;

    public static TheoryData<string> Kinds => ["ipv4-udp", "ipv4-tcp", "ipv4-icmp", "ipv6-udp", "ipv6-tcp", "ipv6-icmp"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Corrupted_packets_flip_one_payload_bit_and_every_checksum_still_verifies(string kind)
    {
        var (original, payloadOffset) = Build(kind);
        Assert.True(ChecksumsVerify(original), "the test packet itself must verify");
        var model = LinkModel.Create(new LinkModelOptions { Corrupt = 1 }, LinkHarness.Frequency, 0, seed: 7, new ValidChecksumCorruption());

        var flippedBytes = new HashSet<int>();
        for (var i = 0; i < 300; i++)
        {
            model.Enqueue(original, i);
            Assert.True(model.TryDequeue(i, out var packet));
            var bytes = packet.Span.ToArray();
            model.Release(packet);

            var bits = 0;
            for (var j = 0; j < original.Length; j++)
            {
                if (bytes[j] == original[j])
                {
                    continue;
                }

                var isChecksum = IsChecksumByte(kind, j);
                if (!isChecksum)
                {
                    Assert.True(j >= payloadOffset, $"byte {j} changed, before the payload at {payloadOffset}");
                    bits += BitOperations.PopCount((uint)(bytes[j] ^ original[j]));
                    flippedBytes.Add(j);
                }
            }

            Assert.Equal(1, bits);
            Assert.True(ChecksumsVerify(bytes), $"checksums fail after corrupting packet {i}: {Convert.ToHexString(bytes)}");
        }

        Assert.Equal(300, model.Counters.Corrupted);
        Assert.True(flippedBytes.Count > 50, $"only bytes {string.Join(',', flippedBytes)} were ever flipped");
    }

    [Fact]
    public void Without_the_fixup_a_flipped_bit_breaks_a_checksum()
    {
        var (original, _) = Build("ipv4-udp");
        var model = LinkModel.Create(new LinkModelOptions { Corrupt = 1 }, LinkHarness.Frequency, 0, seed: 7);
        for (var i = 0; i < 100; i++)
        {
            model.Enqueue(original, i);
            Assert.True(model.TryDequeue(i, out var packet));
            Assert.False(ChecksumsVerify(packet.Span.ToArray()));
            model.Release(packet);
        }
    }

    [Fact]
    public void Packets_without_a_transport_payload_and_other_protocols_are_spared()
    {
        var fixup = new ValidChecksumCorruption();
        var (ack, _) = Build("ipv4-tcp", payloadLength: 0);
        Assert.Equal(0, fixup.SelectRegion(ack).GetOffsetAndLength(ack.Length).Length);

        var (gre, _) = Build("ipv4-udp");
        gre[9] = 47;
        Assert.Equal(0, fixup.SelectRegion(gre).GetOffsetAndLength(gre.Length).Length);

        var (fragment, _) = Build("ipv4-udp");
        fragment[6] = 0x20; // more fragments
        Assert.Equal(0, fixup.SelectRegion(fragment).GetOffsetAndLength(fragment.Length).Length);
        Assert.Equal(0, fixup.SelectRegion([0x60, 1, 2]).GetOffsetAndLength(3).Length);

        var model = LinkModel.Create(new LinkModelOptions { Corrupt = 1 }, LinkHarness.Frequency, 0, seed: 1, fixup);
        model.Enqueue(ack, 0);
        Assert.True(model.TryDequeue(0, out var packet));
        Assert.Equal(ack, packet.Span.ToArray());
        Assert.Equal(0, model.Counters.Corrupted);
    }

    [Fact]
    public void A_udp_datagram_sent_without_a_checksum_keeps_none()
    {
        var (original, _) = Build("ipv4-udp");
        original[20 + 6] = 0;
        original[20 + 7] = 0;
        var fixup = new ValidChecksumCorruption();
        var copy = original.ToArray();
        copy[^1] ^= 1;
        fixup.AfterCorruption(copy);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(copy.AsSpan(26)));
        Assert.True(Sum(copy.AsSpan(0, 20)) == 0xFFFF);
    }

    /// <summary>Builds a packet of <paramref name="kind"/> with correct checksums (computed here, independently of Wire); returns it and where its payload starts.</summary>
    private static (byte[] Packet, int PayloadOffset) Build(string kind, int payloadLength = PayloadLength)
    {
        var v6 = kind.StartsWith("ipv6", StringComparison.Ordinal);
        var transport = kind[5..];
        var ipHeader = v6 ? 40 : 20;
        var transportHeader = transport == "tcp" ? 32 : 8;
        var packet = new byte[ipHeader + transportHeader + payloadLength];
        byte protocol = transport switch { "tcp" => 6, "udp" => 17, _ => v6 ? (byte)58 : (byte)1 };
        byte[] source = v6 ? [0xfd, 0, .. new byte[13], 1] : [10, 200, 0, 1];
        byte[] destination = v6 ? [0xfd, 0, .. new byte[13], 2] : [10, 200, 0, 2];
        if (v6)
        {
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(packet.Length - 40));
            packet[6] = protocol;
            packet[7] = 64;
            source.CopyTo(packet, 8);
            destination.CopyTo(packet, 24);
        }
        else
        {
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0x1234);
            packet[8] = 64;
            packet[9] = protocol;
            source.CopyTo(packet, 12);
            destination.CopyTo(packet, 16);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), (ushort)~Sum(packet.AsSpan(0, 20)));
        }

        var t = packet.AsSpan(ipHeader);
        switch (transport)
        {
            case "tcp":
                BinaryPrimitives.WriteUInt16BigEndian(t, 40000);
                BinaryPrimitives.WriteUInt16BigEndian(t[2..], 80);
                BinaryPrimitives.WriteUInt32BigEndian(t[4..], 1000);
                t[12] = 8 << 4; // 32-byte header: 12 bytes of options
                t[13] = 0x18;
                t[20] = 1;
                t[21] = 1;
                t[22] = 8;
                t[23] = 10;
                break;
            case "udp":
                BinaryPrimitives.WriteUInt16BigEndian(t, 40000);
                BinaryPrimitives.WriteUInt16BigEndian(t[2..], 7777);
                BinaryPrimitives.WriteUInt16BigEndian(t[4..], (ushort)t.Length);
                break;
            default:
                t[0] = v6 ? (byte)128 : (byte)8;
                BinaryPrimitives.WriteUInt16BigEndian(t[4..], 77);
                break;
        }

        for (var i = transportHeader; i < t.Length; i++)
        {
            t[i] = (byte)(i * 13);
        }

        var checksumOffset = ipHeader + TransportChecksumOffset(transport);
        var pseudo = transport == "icmp" && !v6 ? 0u : PseudoHeader(source, destination, protocol, t.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(checksumOffset), (ushort)~Add(pseudo, t));
        return (packet, ipHeader + transportHeader);
    }

    private static int TransportChecksumOffset(string transport) => transport switch { "tcp" => 16, "udp" => 6, _ => 2 };

    private static bool IsChecksumByte(string kind, int index)
    {
        var v6 = kind.StartsWith("ipv6", StringComparison.Ordinal);
        var ipHeader = v6 ? 40 : 20;
        var offset = ipHeader + TransportChecksumOffset(kind[5..]);
        return index == offset || index == offset + 1 || (!v6 && index is 10 or 11);
    }

    private static bool ChecksumsVerify(byte[] packet)
    {
        var v6 = packet[0] >> 4 == 6;
        var ipHeader = v6 ? 40 : 20;
        if (!v6 && Sum(packet.AsSpan(0, 20)) != 0xFFFF)
        {
            return false;
        }

        var protocol = v6 ? packet[6] : packet[9];
        var t = packet.AsSpan(ipHeader);
        var pseudo = protocol == 1 ? 0u : PseudoHeader(packet.AsSpan(v6 ? 8 : 12, v6 ? 16 : 4), packet.AsSpan(v6 ? 24 : 16, v6 ? 16 : 4), protocol, t.Length);
        return Add(pseudo, t) == 0xFFFF;
    }

    private static uint PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length) =>
        (uint)(Add(Add(0, source), destination) + protocol + length);

    private static ushort Sum(ReadOnlySpan<byte> data) => Add(0, data);

    /// <summary>A naive ones' complement sum of 16-bit words, folded.</summary>
    private static ushort Add(uint sum, ReadOnlySpan<byte> data)
    {
        for (var i = 0; i < data.Length; i += 2)
        {
            sum += (uint)(data[i] << 8) + (i + 1 < data.Length ? data[i + 1] : 0u);
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }
}
