namespace TunTap.Fuzz;

/// <summary>One parser under fuzzing. <see cref="Fuzz"/> must never throw except with what the parser documents.</summary>
internal interface IFuzzTarget
{
    /// <summary>Feeds one input to the parser.</summary>
    static abstract void Fuzz(ReadOnlySpan<byte> data);
}
