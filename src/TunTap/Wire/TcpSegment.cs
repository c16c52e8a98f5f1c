using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// A zero-copy view of a TCP segment (RFC 9293): the whole IP payload. The data offset is checked
/// against the buffer once; options are read with <see cref="GetOptions"/> or the typed helpers.
/// </summary>
/// <remarks>
/// A view made from a <see cref="ReadOnlySpan{T}"/> is read-only (<see cref="IsReadOnly"/>): its
/// setters and <see cref="Span{T}"/> accessors throw <see cref="InvalidOperationException"/>; read
/// it through the <c>ReadOnly</c> accessors.
/// </remarks>
public readonly ref struct TcpSegment
{
    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>Source port.</summary>
        public const int SourcePort = 0;

        /// <summary>Destination port.</summary>
        public const int DestinationPort = 2;

        /// <summary>Sequence number.</summary>
        public const int SequenceNumber = 4;

        /// <summary>Acknowledgment number.</summary>
        public const int AcknowledgmentNumber = 8;

        /// <summary>Data offset (high nibble, 32-bit words), reserved bits and the NS flag.</summary>
        public const int DataOffset = 12;

        /// <summary>Flags CWR..FIN.</summary>
        public const int Flags = 13;

        /// <summary>Receive window.</summary>
        public const int Window = 14;

        /// <summary>Checksum (pseudo header included).</summary>
        public const int Checksum = 16;

        /// <summary>Urgent pointer.</summary>
        public const int UrgentPointer = 18;

        /// <summary>Start of the options.</summary>
        public const int Options = 20;
    }

    /// <summary>Length of a header without options.</summary>
    public const int MinimumHeaderLength = 20;

    /// <summary>Length of a header with the most options (data offset 15).</summary>
    public const int MaximumHeaderLength = 60;

    private readonly ReadOnlySpan<byte> _buffer;
    private readonly Span<byte> _writable;

    private TcpSegment(Span<byte> buffer)
    {
        _buffer = buffer;
        _writable = buffer;
    }

    private TcpSegment(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>True for a view made from read-only data: it can only be read.</summary>
    public bool IsReadOnly => _writable.IsEmpty;

    private Span<byte> Writable => _writable.IsEmpty
        ? throw new InvalidOperationException("this TcpSegment view was made from read-only data; create it from a Span<byte> to change it")
        : _writable;

    /// <summary>The whole segment.</summary>
    public Span<byte> Buffer => Writable;

    /// <summary>The whole segment, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyBuffer => _buffer;

    /// <summary>Source port.</summary>
    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.SourcePort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.SourcePort..], value);
    }

    /// <summary>Destination port.</summary>
    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DestinationPort..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.DestinationPort..], value);
    }

    /// <summary>Sequence number.</summary>
    public uint SequenceNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.SequenceNumber..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.SequenceNumber..], value);
    }

    /// <summary>Acknowledgment number.</summary>
    public uint AcknowledgmentNumber
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_buffer[Field.AcknowledgmentNumber..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(Writable[Field.AcknowledgmentNumber..], value);
    }

    /// <summary>Header length in bytes (data offset × 4), options included.</summary>
    public int HeaderLength => (_buffer[Field.DataOffset] >> 4) * 4;

    /// <summary>Control bits (9 bits: NS and CWR..FIN).</summary>
    public TcpFlags Flags
    {
        get => (TcpFlags)(BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DataOffset..]) & 0x01FF);
        set => BinaryPrimitives.WriteUInt16BigEndian(
            Writable[Field.DataOffset..],
            (ushort)((BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.DataOffset..]) & 0xFE00) | ((ushort)value & 0x01FF)));
    }

    /// <summary>Receive window (unscaled).</summary>
    public ushort Window
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Window..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Window..], value);
    }

    /// <summary>The checksum field.</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.Checksum..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.Checksum..], value);
    }

    /// <summary>Urgent pointer.</summary>
    public ushort UrgentPointer
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_buffer[Field.UrgentPointer..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(Writable[Field.UrgentPointer..], value);
    }

    /// <summary>The options bytes (empty when the data offset is 5).</summary>
    public Span<byte> Options => Writable[Field.Options..HeaderLength];

    /// <summary>The options bytes (empty when the data offset is 5), as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyOptions => _buffer[Field.Options..HeaderLength];

    /// <summary>The data after the header.</summary>
    public Span<byte> Payload => Writable[HeaderLength..];

    /// <summary>The data after the header, as read-only bytes (also on a read-only view).</summary>
    public ReadOnlySpan<byte> ReadOnlyPayload => _buffer[HeaderLength..];

    /// <summary>Checks the data offset against <paramref name="buffer"/>.</summary>
    public static WireError Validate(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < MinimumHeaderLength)
        {
            return WireError.Truncated;
        }

        var headerLength = (buffer[Field.DataOffset] >> 4) * 4;
        if (headerLength < MinimumHeaderLength)
        {
            return WireError.Malformed;
        }

        return headerLength > buffer.Length ? WireError.Truncated : WireError.None;
    }

    /// <summary>Creates a view of the whole of <paramref name="buffer"/> when it holds a valid header.</summary>
    public static bool TryCreate(Span<byte> buffer, out TcpSegment segment)
    {
        var valid = TryCreate((ReadOnlySpan<byte>)buffer, out segment);
        segment = valid ? new TcpSegment(buffer[..segment._buffer.Length]) : default;
        return valid;
    }

    /// <summary>Creates a read-only view (see the remarks on the type) when <paramref name="buffer"/> passes <see cref="Validate"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out TcpSegment segment)
    {
        if (Validate(buffer) != WireError.None)
        {
            segment = default;
            return false;
        }

        segment = new TcpSegment(buffer);
        return true;
    }


    /// <summary>Enumerates the options (safe on any bytes).</summary>
    public TcpOptionEnumerator GetOptions() => new(ReadOnlyOptions);

    /// <summary>The maximum segment size option, if present and well-formed.</summary>
    public bool TryGetMaximumSegmentSize(out ushort maximumSegmentSize)
    {
        foreach (var option in GetOptions())
        {
            if (option.Kind == TcpOptionKind.MaximumSegmentSize && option.Data.Length == 2)
            {
                maximumSegmentSize = BinaryPrimitives.ReadUInt16BigEndian(option.Data);
                return true;
            }
        }

        maximumSegmentSize = 0;
        return false;
    }

    /// <summary>The window scale shift count, if present and well-formed.</summary>
    public bool TryGetWindowScale(out byte shiftCount)
    {
        foreach (var option in GetOptions())
        {
            if (option.Kind == TcpOptionKind.WindowScale && option.Data.Length == 1)
            {
                shiftCount = option.Data[0];
                return true;
            }
        }

        shiftCount = 0;
        return false;
    }

    /// <summary>True when the SACK-permitted option is present.</summary>
    public bool HasSackPermitted()
    {
        foreach (var option in GetOptions())
        {
            if (option.Kind == TcpOptionKind.SackPermitted && option.Data.IsEmpty)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The timestamps option (RFC 7323), if present and well-formed.</summary>
    public bool TryGetTimestamps(out uint value, out uint echoReply)
    {
        foreach (var option in GetOptions())
        {
            if (option.Kind == TcpOptionKind.Timestamps && option.Data.Length == 8)
            {
                value = BinaryPrimitives.ReadUInt32BigEndian(option.Data);
                echoReply = BinaryPrimitives.ReadUInt32BigEndian(option.Data[4..]);
                return true;
            }
        }

        value = 0;
        echoReply = 0;
        return false;
    }

    /// <summary>The checksum the segment should carry (field taken as zero), given the pseudo header sum.</summary>
    public ushort ComputeChecksum(ulong pseudoHeaderSum) => InternetChecksum.ComputeWithoutField(pseudoHeaderSum, _buffer, Field.Checksum);

    /// <summary>Computes the checksum and stores it.</summary>
    public void FillChecksum(ulong pseudoHeaderSum) => Checksum = ComputeChecksum(pseudoHeaderSum);

    /// <summary>True when the checksum is correct for the given pseudo header sum.</summary>
    public bool VerifyChecksum(ulong pseudoHeaderSum) => InternetChecksum.IsValid(InternetChecksum.Add(pseudoHeaderSum, _buffer));

    /// <summary>
    /// Writes a header with <paramref name="options"/> (padded with End-of-List to a multiple of 4)
    /// in front of <paramref name="payloadLength"/> payload bytes, and returns the view of the
    /// segment (payload left as it is, checksum zero).
    /// </summary>
    /// <exception cref="ArgumentException">The options exceed 40 bytes or the buffer cannot hold the segment.</exception>
    public static TcpSegment WriteHeader(Span<byte> buffer, ushort sourcePort, ushort destinationPort, uint sequenceNumber, uint acknowledgmentNumber, TcpFlags flags, ushort window, ReadOnlySpan<byte> options, int payloadLength)
    {
        var headerLength = MinimumHeaderLength + ((options.Length + 3) & ~3);
        if (headerLength > MaximumHeaderLength || payloadLength < 0 || headerLength + payloadLength > buffer.Length)
        {
            throw new ArgumentException($"a TCP segment with {options.Length} option bytes and {payloadLength} payload bytes does not fit {buffer.Length} bytes", nameof(buffer));
        }

        buffer[..headerLength].Clear();
        buffer[Field.DataOffset] = (byte)((headerLength / 4) << 4);
        options.CopyTo(buffer[Field.Options..]);
        return new TcpSegment(buffer[..(headerLength + payloadLength)])
        {
            SourcePort = sourcePort,
            DestinationPort = destinationPort,
            SequenceNumber = sequenceNumber,
            AcknowledgmentNumber = acknowledgmentNumber,
            Flags = flags,
            Window = window,
        };
    }
}
