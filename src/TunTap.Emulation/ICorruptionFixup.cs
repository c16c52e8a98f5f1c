namespace TunTap.Emulation;

/// <summary>
/// Protocol knowledge for <see cref="CorruptionStage"/>: where bits may be flipped, and how to make
/// the checksums valid again afterwards so that the corruption reaches the application instead
/// of being caught by the IP/TCP/UDP checksums. Without a fixup, any bit of the packet may flip and
/// checksums are left as they were (so they no longer match).
/// </summary>
public interface ICorruptionFixup
{
    /// <summary>The byte range of <paramref name="packet"/> in which a bit may be flipped (e.g. the transport payload); an empty range spares the packet.</summary>
    Range SelectRegion(ReadOnlySpan<byte> packet);

    /// <summary>Called after the flip; may rewrite checksums in <paramref name="packet"/>.</summary>
    void AfterCorruption(Span<byte> packet);
}
