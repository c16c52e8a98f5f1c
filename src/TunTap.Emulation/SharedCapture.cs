using TunTap.Capture;

namespace TunTap.Emulation;

/// <summary>A pcap writer shared by the two directions that touch one link end: writes are serialized.</summary>
internal sealed class SharedCapture(PcapWriter writer, TimeProvider time)
{
    private readonly Lock _gate = new();

    public void Write(ReadOnlySpan<byte> packet)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            writer.Write(packet, now);
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            writer.Flush();
        }
    }
}
