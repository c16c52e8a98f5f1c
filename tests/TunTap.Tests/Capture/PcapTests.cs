using System.Buffers.Binary;
using CsCheck;
using TunTap.Capture;

namespace TunTap.Tests.Capture;

public sealed class PcapTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Writer_and_reader_round_trip_packets_timestamps_and_link_type()
    {
        Gen.Select(Gen.Byte.Array[0, 1600].List[0, 20], Gen.Long[0, 1_000_000_000_000], Gen.Bool.Select(b => b ? PcapLinkType.Ethernet : PcapLinkType.Raw))
            .Sample((packets, offsetTicks, linkType) =>
            {
                using var stream = new MemoryStream();
                using (var writer = new PcapWriter(stream, linkType))
                {
                    for (var i = 0; i < packets.Count; i++)
                    {
                        writer.Write(packets[i], Start.AddTicks(offsetTicks + i));
                    }
                }

                stream.Position = 0;
                using var reader = new PcapReader(stream);
                Assert.Equal(linkType, reader.LinkType);
                Assert.True(reader.IsNanosecond);
                for (var i = 0; i < packets.Count; i++)
                {
                    Assert.True(reader.TryRead(out var record));
                    Assert.Equal(packets[i], record.Data.ToArray());
                    Assert.Equal(packets[i].Length, record.OriginalLength);
                    Assert.Equal(Start.AddTicks(offsetTicks + i), record.Timestamp);
                }

                Assert.False(reader.TryRead(out _));
            }, iter: 200);
    }

    [Fact]
    public void Writer_truncates_to_snap_length_and_keeps_original_length()
    {
        using var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, PcapLinkType.Raw, snapLength: 10))
        {
            writer.Write(new byte[100], Start);
        }

        stream.Position = 0;
        using var reader = new PcapReader(stream);
        Assert.True(reader.TryRead(out var record));
        Assert.Equal(10, record.Data.Length);
        Assert.Equal(100, record.OriginalLength);
    }

    [Fact]
    public void Reader_accepts_big_endian_microsecond_files()
    {
        var file = new byte[24 + 16 + 3];
        BinaryPrimitives.WriteUInt32BigEndian(file, 0xA1B2C3D4);
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16BigEndian(file.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(24), 1_000);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(28), 250_000);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(32), 3);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(36), 3);
        file[40] = 7;
        file[41] = 8;
        file[42] = 9;

        using var reader = new PcapReader(new MemoryStream(file));
        Assert.Equal(PcapLinkType.Ethernet, reader.LinkType);
        Assert.False(reader.IsNanosecond);
        Assert.True(reader.TryRead(out var record));
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(1000.25), record.Timestamp);
        Assert.Equal(new byte[] { 7, 8, 9 }, record.Data.ToArray());
    }

    [Fact]
    public void Reader_reports_malformed_input_as_TunTapException_only()
    {
        var valid = ValidFile();
        Gen.Select(Gen.Int[0, valid.Length], Gen.Byte.Array[0, 64], Gen.Int[0, valid.Length]).Sample((cut, noise, at) =>
        {
            var bytes = valid[..cut].Concat(noise).ToArray();
            if (at < bytes.Length)
            {
                bytes[at] ^= 0x5A;
            }

            try
            {
                using var reader = new PcapReader(new MemoryStream(bytes));
                for (var i = 0; i < 100 && reader.TryRead(out var record); i++)
                {
                    Assert.True(record.Data.Length <= reader.SnapLength);
                }
            }
            catch (TunTapException e)
            {
                Assert.StartsWith("malformed pcap file", e.Message, StringComparison.Ordinal);
            }
        }, iter: 2000);
    }

    private static byte[] ValidFile()
    {
        using var stream = new MemoryStream();
        using (var writer = new PcapWriter(stream, PcapLinkType.Ethernet))
        {
            writer.Write(new byte[60], Start);
            writer.Write(new byte[1514], Start.AddMilliseconds(1));
        }

        return stream.ToArray();
    }
}
