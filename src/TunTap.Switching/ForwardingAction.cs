namespace TunTap.Switching;

/// <summary>What <see cref="LearningSwitch.Forward"/> decided for a frame.</summary>
public enum ForwardingAction
{
    /// <summary>Dropped; <see cref="ForwardingDecision.DropReason"/> says why.</summary>
    Dropped,

    /// <summary>Sent to the one port its destination was learned on.</summary>
    Unicast,

    /// <summary>Sent to every other port of its VLAN (broadcast, multicast, unknown unicast).</summary>
    Flooded,

    /// <summary>The destination is on the ingress port: nothing to send.</summary>
    Filtered,
}
