namespace TunTap.Wire;

/// <summary>One TCP option as found by <see cref="TcpOptionEnumerator"/>: its kind and data (length byte excluded).</summary>
public readonly ref struct TcpOption
{
    /// <summary>Creates an option.</summary>
    public TcpOption(byte kind, ReadOnlySpan<byte> data)
    {
        Kind = kind;
        Data = data;
    }

    /// <summary>Option kind (see <see cref="TcpOptionKind"/>).</summary>
    public byte Kind { get; }

    /// <summary>The option's data, after kind and length.</summary>
    public ReadOnlySpan<byte> Data { get; }
}
