namespace TunTap.Emulation;

/// <summary>A loss model choice in <see cref="LinkModelOptions"/>; <see cref="CreateModel"/> validates it and builds a fresh model.</summary>
public abstract record LossOptions
{
    /// <summary>Builds a new model with these parameters (throws <see cref="TunTapException"/> when one is out of range).</summary>
    public abstract ILossModel CreateModel();
}
