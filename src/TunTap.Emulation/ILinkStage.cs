namespace TunTap.Emulation;

/// <summary>
/// One step of a link (loss, delay, rate, queue, trace...). A stage is a synchronous state
/// machine driven by explicit times: it never reads a clock and draws randomness only from the
/// generator it was built with. Stages are decorators: a <see cref="LinkModel"/> chains them, each
/// stage's output being the next one's input.
/// </summary>
public interface ILinkStage
{
    /// <summary>The earliest time at which <see cref="Advance"/> has work, or <see cref="long.MaxValue"/> when idle.</summary>
    long NextEventTicks { get; }

    /// <summary>
    /// A packet arrives at <paramref name="nowTicks"/>. The stage owns it from now on: it holds it,
    /// forwards it (possibly at once) or drops it through <paramref name="output"/>. Events due
    /// at or before <paramref name="nowTicks"/> have already been run.
    /// </summary>
    void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output);

    /// <summary>Runs the work due at <paramref name="nowTicks"/>, which equals <see cref="NextEventTicks"/>.</summary>
    void Advance(long nowTicks, ILinkStageOutput output);
}
