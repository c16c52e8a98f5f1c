using System.Buffers.Binary;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// Appends DHCP options (code, length, value) to a span, for building a message in place. Every
/// write checks room first and throws rather than writing past the end.
/// </summary>
public ref struct DhcpOptionWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    /// <summary>Writes into <paramref name="buffer"/> (usually <see cref="DhcpMessage.Options"/>) from its start.</summary>
    public DhcpOptionWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    /// <summary>Appends an option with <paramref name="value"/> (at most 255 bytes).</summary>
    /// <exception cref="ArgumentException">The value is longer than 255 bytes or the buffer is full.</exception>
    public void Write(byte code, scoped ReadOnlySpan<byte> value)
    {
        if (value.Length > byte.MaxValue || _length + 2 + value.Length > _buffer.Length)
        {
            throw new ArgumentException($"option {code} ({value.Length} bytes) does not fit", nameof(value));
        }

        _buffer[_length] = code;
        _buffer[_length + 1] = (byte)value.Length;
        value.CopyTo(_buffer[(_length + 2)..]);
        _length += 2 + value.Length;
    }

    /// <summary>Appends a one-byte option.</summary>
    public void WriteByte(byte code, byte value) => Write(code, [value]);

    /// <summary>Appends a 4-byte big-endian option (an address or a number of seconds).</summary>
    public void WriteUInt32(byte code, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        Write(code, bytes);
    }

    /// <summary>Appends the End option.</summary>
    /// <exception cref="ArgumentException">The buffer is full.</exception>
    public void WriteEnd()
    {
        if (_length >= _buffer.Length)
        {
            throw new ArgumentException("no room for the End option");
        }

        _buffer[_length++] = DhcpOptionCode.End;
    }
}
