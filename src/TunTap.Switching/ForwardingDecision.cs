namespace TunTap.Switching;

/// <summary>
/// The result of <see cref="LearningSwitch.Forward"/>: where a frame goes and in which VLAN. One
/// instance is reused for every frame (create it with <see cref="LearningSwitch.CreateDecision"/>).
/// </summary>
public sealed class ForwardingDecision
{
    internal ForwardingDecision(int maxPorts) => Ports = new PortSet(maxPorts);

    /// <summary>What was decided.</summary>
    public ForwardingAction Action { get; internal set; }

    /// <summary>Why the frame was dropped (meaningful when <see cref="Action"/> is <see cref="ForwardingAction.Dropped"/>).</summary>
    public SwitchDropReason DropReason { get; internal set; }

    /// <summary>The egress ports (never the ingress port); empty unless unicast or flooded.</summary>
    public PortSet Ports { get; }

    /// <summary>The VLAN the frame was classified into on ingress (0 when dropped before that).</summary>
    public ushort Vlan { get; internal set; }

    /// <summary>The 802.1p priority from the ingress tag (0 when it came untagged).</summary>
    public byte Priority { get; internal set; }

    /// <summary>True when the frame came with an 802.1Q tag (including a priority tag with VID 0).</summary>
    public bool IngressTagged { get; internal set; }

    internal void Reset()
    {
        Action = ForwardingAction.Dropped;
        DropReason = default;
        Ports.Clear();
        Vlan = 0;
        Priority = 0;
        IngressTagged = false;
    }
}
