using TunTap.Capture;

namespace TunTap.Fuzz.Targets;

/// <summary>The pcap reader: malformed files may only raise <see cref="TunTapException"/>.</summary>
internal sealed class PcapReaderTarget : IFuzzTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        try
        {
            using var reader = new PcapReader(new MemoryStream(data.ToArray()));
            for (var i = 0; i < 10_000 && reader.TryRead(out _); i++)
            {
            }
        }
        catch (TunTapException)
        {
            // Documented: a malformed file is reported this way.
        }
    }
}
