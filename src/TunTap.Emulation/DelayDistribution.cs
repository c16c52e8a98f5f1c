namespace TunTap.Emulation;

/// <summary>The shape of the delay jitter (netem's <c>distribution</c>).</summary>
public enum DelayDistribution
{
    /// <summary>Uniform over delay ± jitter (netem's default without a table).</summary>
    Uniform,

    /// <summary>Normal with standard deviation jitter.</summary>
    Normal,

    /// <summary>Pareto (shape 3), shifted and scaled to mean delay and standard deviation jitter: a long tail of late packets.</summary>
    Pareto,

    /// <summary>A sum of 75% normal and 25% Pareto, scaled to mean delay and standard deviation jitter.</summary>
    ParetoNormal,
}
