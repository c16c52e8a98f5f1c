namespace TunTap.Emulation;

/// <summary>Drops the packets an <see cref="ILossModel"/> picks; passes the others on at once.</summary>
public sealed class LossStage : ILinkStage
{
    private readonly ILossModel _model;
    private readonly LinkRandom _random;

    /// <summary>Loses packets as <paramref name="model"/> says, drawing from <paramref name="random"/>.</summary>
    public LossStage(ILossModel model, LinkRandom random)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(random);
        _model = model;
        _random = random;
    }

    /// <inheritdoc />
    public long NextEventTicks => long.MaxValue;

    /// <inheritdoc />
    public void Offer(LinkPacket packet, long nowTicks, ILinkStageOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_model.NextIsLost(_random))
        {
            output.Drop(packet, DropReason.Loss);
        }
        else
        {
            output.Forward(packet, nowTicks);
        }
    }

    /// <inheritdoc />
    public void Advance(long nowTicks, ILinkStageOutput output)
    {
    }
}
