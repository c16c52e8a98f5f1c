namespace TunTap.Tunnel;

/// <summary>
/// Splits a TCP byte stream into tunnel frames incrementally: bytes are received into
/// <see cref="GetFreeMemory"/> (or copied in with <see cref="Write"/>), and
/// <see cref="TryRead"/> yields each complete frame. Its buffer is fixed at construction, so a
/// peer cannot make it grow: a length prefix above the maximum payload is reported as
/// <see cref="TunnelFrameReadResult.Oversize"/> and the reader stays in that state.
/// </summary>
public sealed class TunnelFrameReader
{
    private readonly byte[] _buffer;
    private int _maxPayload;
    private int _start;
    private int _end;
    private TunnelFrameReadResult _error = TunnelFrameReadResult.Frame;

    /// <summary>Creates a reader for frames of at most <paramref name="maxPayload"/> payload bytes.</summary>
    /// <param name="maxPayload">Largest allowed payload (the tunnel's maximum packet size).</param>
    /// <param name="capacity">Buffer size; at least two maximal frames, 64 KiB by default.</param>
    public TunnelFrameReader(int maxPayload, int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxPayload);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxPayload, TunnelFrame.MaxLongPayloadLimit);
        _maxPayload = maxPayload;
        var minimum = 2 * (TunnelFrame.LongHeaderSize + maxPayload);
        _buffer = new byte[Math.Max(capacity == 0 ? 64 * 1024 : capacity, minimum)];
    }

    /// <summary>Bytes received but not yet returned as frames.</summary>
    public int Buffered => _end - _start;

    /// <summary>
    /// The largest payload accepted. May be raised after construction (once both ends agreed on
    /// offloads), as long as two maximal frames still fit the buffer.
    /// </summary>
    public int MaxPayload
    {
        get => _maxPayload;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, (_buffer.Length / 2) - TunnelFrame.LongHeaderSize);
            _maxPayload = value;
        }
    }

    /// <summary>
    /// Free space to receive into (at least one maximal frame's worth): behind the unread bytes,
    /// which are moved to the front only when less than that is left there. Call
    /// <see cref="Advance"/> with the count received. Invalidates payload spans returned earlier.
    /// </summary>
    public Memory<byte> GetFreeMemory()
    {
        if (_start == _end || _buffer.Length - _end < TunnelFrame.LongHeaderSize + _maxPayload)
        {
            Compact();
        }

        return _buffer.AsMemory(_end);
    }

    /// <summary>Marks <paramref name="count"/> bytes of <see cref="GetFreeMemory"/> as received.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>Copies as much of <paramref name="data"/> as fits; returns the count taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        Compact();
        var count = Math.Min(data.Length, _buffer.Length - _end);
        data[..count].CopyTo(_buffer.AsSpan(_end));
        _end += count;
        return count;
    }

    /// <summary>
    /// Returns the next complete frame, if the buffered bytes hold one. The payload span stays
    /// valid until the next <see cref="GetFreeMemory"/> or <see cref="Write"/>.
    /// </summary>
    public TunnelFrameReadResult TryRead(out TunnelFrameHeader header, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        header = default;
        if (_error != TunnelFrameReadResult.Frame)
        {
            return _error;
        }

        var buffered = _buffer.AsSpan(_start, _end - _start);
        if (!TunnelFrame.TryReadHeader(buffered, out header))
        {
            return TunnelFrameReadResult.NeedMore;
        }

        if (!header.IsKnown)
        {
            return _error = TunnelFrameReadResult.Malformed;
        }

        if (header.Length > _maxPayload)
        {
            return _error = TunnelFrameReadResult.Oversize;
        }

        var frameLength = header.FrameLength;
        if (buffered.Length < frameLength)
        {
            return TunnelFrameReadResult.NeedMore;
        }

        payload = buffered.Slice(header.Size, header.Length);
        _start += frameLength;
        return TunnelFrameReadResult.Frame;
    }

    private void Compact()
    {
        if (_start == 0)
        {
            return;
        }

        var buffered = _end - _start;
        if (buffered > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, buffered);
        }

        _start = 0;
        _end = buffered;
    }
}
