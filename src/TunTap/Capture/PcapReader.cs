using System.Buffers.Binary;

namespace TunTap.Capture;

/// <summary>
/// Reads classic pcap files in either byte order, with microsecond or nanosecond timestamps.
/// A malformed file raises <see cref="TunTapException"/> naming the offset, never reads past
/// what the file holds, and never allocates more than the file's snap length per packet.
/// </summary>
public sealed class PcapReader : IDisposable
{
    private const int MaxSnapLength = 1 << 20;
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly bool _bigEndian;
    private readonly byte[] _buffer;
    private long _offset;

    /// <summary>Reads and validates the file header.</summary>
    public PcapReader(Stream stream, bool leaveOpen = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _leaveOpen = leaveOpen;
        Span<byte> header = stackalloc byte[PcapFormat.FileHeaderSize];
        if (!ReadExactly(header))
        {
            throw Malformed("the file is shorter than a pcap header");
        }

        var magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
        (_bigEndian, IsNanosecond) = magic switch
        {
            PcapFormat.MicrosecondMagic => (false, false),
            PcapFormat.NanosecondMagic => (false, true),
            _ when BinaryPrimitives.ReverseEndianness(magic) == PcapFormat.MicrosecondMagic => (true, false),
            _ when BinaryPrimitives.ReverseEndianness(magic) == PcapFormat.NanosecondMagic => (true, true),
            _ => throw Malformed($"not a pcap file (magic 0x{magic:x8}); pcapng is not supported"),
        };

        var major = ReadUInt16(header[4..]);
        if (major != PcapFormat.MajorVersion)
        {
            throw Malformed($"unsupported pcap version {major}");
        }

        SnapLength = (int)Math.Min(ReadUInt32(header[16..]), MaxSnapLength);
        if (SnapLength == 0)
        {
            SnapLength = MaxSnapLength;
        }

        LinkType = (PcapLinkType)(ReadUInt32(header[20..]) & 0x0FFFFFFF);
        _buffer = new byte[SnapLength];
    }

    /// <summary>The link type of every packet in the file.</summary>
    public PcapLinkType LinkType { get; }

    /// <summary>True when timestamps have nanosecond resolution.</summary>
    public bool IsNanosecond { get; }

    /// <summary>The largest stored packet the file declares.</summary>
    public int SnapLength { get; }

    /// <summary>Reads the next packet; false at the clean end of the file.</summary>
    public bool TryRead(out PcapRecord record)
    {
        record = default;
        Span<byte> header = stackalloc byte[PcapFormat.RecordHeaderSize];
        var start = _offset;
        var got = _stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        _offset += got;
        if (got == 0)
        {
            return false;
        }

        if (got < header.Length)
        {
            throw Malformed($"truncated record header at offset {start}");
        }

        var seconds = ReadUInt32(header);
        var fraction = ReadUInt32(header[4..]);
        var stored = ReadUInt32(header[8..]);
        var original = ReadUInt32(header[12..]);
        if (stored > SnapLength || stored > int.MaxValue)
        {
            throw Malformed($"record at offset {start} stores {stored} bytes, more than the snap length {SnapLength}");
        }

        if (fraction >= (IsNanosecond ? 1_000_000_000u : 1_000_000u))
        {
            throw Malformed($"record at offset {start} has an invalid sub-second timestamp {fraction}");
        }

        var data = _buffer.AsMemory(0, (int)stored);
        if (!ReadExactly(data.Span))
        {
            throw Malformed($"truncated packet data in the record at offset {start}");
        }

        var ticks = (seconds * TimeSpan.TicksPerSecond) + (IsNanosecond ? fraction / TimeSpan.NanosecondsPerTick : fraction * TimeSpan.TicksPerMicrosecond);
        record = new PcapRecord(DateTimeOffset.UnixEpoch.AddTicks(ticks), (int)Math.Min(original, int.MaxValue), data);
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private bool ReadExactly(Span<byte> destination)
    {
        var got = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        _offset += got;
        return got == destination.Length;
    }

    private ushort ReadUInt16(ReadOnlySpan<byte> source) =>
        _bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(source) : BinaryPrimitives.ReadUInt16LittleEndian(source);

    private uint ReadUInt32(ReadOnlySpan<byte> source) =>
        _bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(source) : BinaryPrimitives.ReadUInt32LittleEndian(source);

    private static TunTapException Malformed(string what) => new($"malformed pcap file: {what}");
}
