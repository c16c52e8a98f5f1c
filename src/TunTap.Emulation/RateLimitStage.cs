namespace TunTap.Emulation;

/// <summary>
/// A bottleneck of fixed rate: packets wait in a <see cref="QueueSettings">queue</see> and are sent
/// one after another, each taking <see cref="TransmissionTime">its serialization time</see>; a
/// packet leaves when its last bit is sent. With an empty queue and no other stage, departures
/// match netem's <c>rate</c>: each packet leaves <c>size*8/rate</c> after the later of its arrival
/// and the previous departure.
/// </summary>
public sealed class RateLimitStage : ILinkStage
{
    private readonly BottleneckQueue _queue;
    private TransmissionTime _time;
    private LinkPacket _sending;
    private bool _busy;
    private long _done = long.MaxValue;

    /// <summary>Creates the stage.</summary>
    /// <param name="bitsPerSecond">Link rate.</param>
    /// <param name="ticksPerSecond">The link clock's frequency.</param>
    /// <param name="queue">The queue in front of the link.</param>
    /// <param name="packetOverhead">Bytes added to every packet (may be negative, e.g. to discount a header).</param>
    /// <param name="cellSize">Link-layer cell size in bytes (e.g. 53 for ATM); 0 for none.</param>
    /// <param name="cellOverhead">Bytes added per cell.</param>
    public RateLimitStage(long bitsPerSecond, long ticksPerSecond, QueueSettings queue, int packetOverhead = 0, int cellSize = 0, int cellOverhead = 0)
    {
        OptionValidation.AtLeast("--rate", bitsPerSecond, 1, "bit/s");
        OptionValidation.AtLeast("ticks per second", ticksPerSecond, 1);
        OptionValidation.AtLeast("--rate cell size", cellSize, 0, " bytes");
        OptionValidation.AtLeast("--rate cell overhead", cellOverhead, 0, " bytes");
        _queue = queue.CreateQueue();
        _time = new TransmissionTime(bitsPerSecond, ticksPerSecond, packetOverhead, cellSize, cellOverhead);
        BitsPerSecond = bitsPerSecond;
    }

    /// <summary>The link rate.</summary>
    public long BitsPerSecond { get; }

    /// <summary>Packets waiting (not counting the one being sent).</summary>
    public int QueuedPackets => _queue.Count;

    /// <summary>Bytes waiting.</summary>
    public long QueuedBytes => _queue.Bytes;

    /// <inheritdoc />
    public long NextEventTicks => _done;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        _queue.Enqueue(packet, nowTicks, output);
        if (!_busy)
        {
            StartNext(nowTicks, output);
        }
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var sent = _sending;
        _busy = false;
        _sending = default;
        _done = long.MaxValue;
        output.Forward(sent, nowTicks);
        StartNext(nowTicks, output);
    }

    private void StartNext(long nowTicks, ILinkStageOutput output)
    {
        if (_queue.TryDequeue(nowTicks, output, out var packet))
        {
            _sending = packet;
            _busy = true;
            _done = nowTicks + _time.Next(packet.Length);
        }
    }
}
