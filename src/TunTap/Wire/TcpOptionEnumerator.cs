namespace TunTap.Wire;

/// <summary>
/// Walks TCP options (usable in <c>foreach</c>). Stops at End-of-List and at the first option whose
/// length byte is missing, below 2 or past the end, so any input is safe.
/// </summary>
public ref struct TcpOptionEnumerator
{
    private ReadOnlySpan<byte> _remaining;

    /// <summary>Enumerates the options in <paramref name="options"/>.</summary>
    public TcpOptionEnumerator(ReadOnlySpan<byte> options)
    {
        _remaining = options;
        Current = default;
    }

    /// <summary>The current option.</summary>
    public TcpOption Current { get; private set; }

    /// <summary>Returns this enumerator (for <c>foreach</c>).</summary>
    public readonly TcpOptionEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next option; false at the end or at a malformed option.</summary>
    public bool MoveNext()
    {
        if (_remaining.IsEmpty || _remaining[0] == TcpOptionKind.EndOfList)
        {
            _remaining = [];
            return false;
        }

        var kind = _remaining[0];
        if (kind == TcpOptionKind.NoOperation)
        {
            Current = new TcpOption(kind, []);
            _remaining = _remaining[1..];
            return true;
        }

        if (_remaining.Length < 2 || _remaining[1] < 2 || _remaining[1] > _remaining.Length)
        {
            _remaining = [];
            return false;
        }

        var length = _remaining[1];
        Current = new TcpOption(kind, _remaining[2..length]);
        _remaining = _remaining[length..];
        return true;
    }
}
