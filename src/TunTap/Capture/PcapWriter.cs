using System.Buffers.Binary;

namespace TunTap.Capture;

/// <summary>
/// Writes a classic pcap file with nanosecond timestamps, readable by Wireshark, tshark and
/// tcpdump. Writing a packet allocates nothing; the stream should be buffered (a
/// <see cref="FileStream"/> with a buffer). Not thread-safe: one writer per thread, or lock.
/// </summary>
public sealed class PcapWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private bool _disposed;

    /// <summary>Writes the file header to <paramref name="stream"/>.</summary>
    /// <param name="stream">Where to write; left open on dispose when <paramref name="leaveOpen"/> is true.</param>
    /// <param name="linkType">Ethernet for TAP captures, Raw for TUN.</param>
    /// <param name="snapLength">Packets longer than this are truncated (their original length is kept).</param>
    /// <param name="leaveOpen">Whether disposing the writer leaves the stream open.</param>
    public PcapWriter(Stream stream, PcapLinkType linkType, int snapLength = PcapFormat.DefaultSnapLength, bool leaveOpen = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(snapLength, 1);
        _stream = stream;
        _leaveOpen = leaveOpen;
        LinkType = linkType;
        SnapLength = snapLength;

        Span<byte> header = stackalloc byte[PcapFormat.FileHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, PcapFormat.NanosecondMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], PcapFormat.MajorVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], PcapFormat.MinorVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0); // reserved (thiszone)
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // reserved (sigfigs)
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)snapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], (uint)linkType);
        _stream.Write(header);
    }

    /// <summary>The link type in the file header.</summary>
    public PcapLinkType LinkType { get; }

    /// <summary>The largest number of bytes stored per packet.</summary>
    public int SnapLength { get; }

    /// <summary>Packets written so far.</summary>
    public long PacketCount { get; private set; }

    /// <summary>Appends one packet captured at <paramref name="timestamp"/>.</summary>
    public void Write(ReadOnlySpan<byte> packet, DateTimeOffset timestamp)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var ticks = timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = ticks / TimeSpan.TicksPerSecond;
        var nanoseconds = ticks % TimeSpan.TicksPerSecond * TimeSpan.NanosecondsPerTick;
        var stored = Math.Min(packet.Length, SnapLength);

        Span<byte> header = stackalloc byte[PcapFormat.RecordHeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)nanoseconds);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)stored);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], (uint)packet.Length);
        _stream.Write(header);
        _stream.Write(packet[..stored]);
        PacketCount++;
    }

    /// <summary>Flushes buffered packets to the stream's backing store.</summary>
    public void Flush()
    {
        if (!_disposed)
        {
            _stream.Flush();
        }
    }

    /// <summary>Flushes, and closes the stream unless it was to be left open.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _stream.Flush();
        _disposed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }
}
