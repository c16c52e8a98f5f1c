using System.Globalization;

namespace TunTap.Switching;

/// <summary>
/// The VLAN configuration of a switch port: an access port carrying one VLAN untagged, or a trunk
/// carrying an allowed list of VLANs tagged (and optionally a native VLAN untagged). Immutable;
/// membership is a 4096-bit set, so checks cost one shift.
/// </summary>
public sealed class PortVlan
{
    /// <summary>The lowest usable VLAN id.</summary>
    public const ushort MinVlanId = 1;

    /// <summary>The highest usable VLAN id (4095 is reserved).</summary>
    public const ushort MaxVlanId = 4094;

    /// <summary>The VLAN of ports that were not given one.</summary>
    public const ushort DefaultVlan = 1;

    private readonly ulong[] _members = new ulong[64];
    private readonly ushort[] _allowed;

    private PortVlan(VlanMode mode, ushort? untagged, ushort[] allowed)
    {
        Mode = mode;
        UntaggedVlan = untagged;
        _allowed = allowed;
        foreach (var vlan in allowed)
        {
            _members[vlan >> 6] |= 1UL << (vlan & 63);
        }

        if (untagged is { } u)
        {
            _members[u >> 6] |= 1UL << (u & 63);
        }
    }

    /// <summary>An access port in VLAN 1.</summary>
    public static PortVlan Default { get; } = Access(DefaultVlan);

    /// <summary>Access or trunk.</summary>
    public VlanMode Mode { get; }

    /// <summary>The VLAN whose frames enter and leave untagged: the PVID of an access port, the native VLAN of a trunk (null: none).</summary>
    public ushort? UntaggedVlan { get; }

    /// <summary>The tagged VLANs of a trunk, ascending (empty for an access port).</summary>
    public IReadOnlyList<ushort> TaggedVlans => _allowed;

    /// <summary>An access port: untagged frames in VLAN <paramref name="pvid"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pvid"/> is not 1-4094.</exception>
    public static PortVlan Access(ushort pvid)
    {
        CheckVlan(pvid, nameof(pvid));
        return new PortVlan(VlanMode.Access, pvid, []);
    }

    /// <summary>A trunk carrying <paramref name="allowed"/> tagged and <paramref name="nativeVlan"/> (if any) untagged.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A VLAN id is not 1-4094.</exception>
    /// <exception cref="ArgumentException">No VLAN at all.</exception>
    public static PortVlan Trunk(IEnumerable<ushort> allowed, ushort? nativeVlan = null)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var set = new SortedSet<ushort>();
        foreach (var vlan in allowed)
        {
            CheckVlan(vlan, nameof(allowed));
            set.Add(vlan);
        }

        if (nativeVlan is { } native)
        {
            CheckVlan(native, nameof(nativeVlan));
            set.Remove(native);
        }

        if (set.Count == 0 && nativeVlan is null)
        {
            throw new ArgumentException("a trunk needs at least one VLAN", nameof(allowed));
        }

        return new PortVlan(VlanMode.Trunk, nativeVlan, [.. set]);
    }

    /// <summary>True when the port carries <paramref name="vlan"/> (tagged or untagged).</summary>
    public bool IsMember(ushort vlan) => vlan <= MaxVlanId && (_members[vlan >> 6] & (1UL << (vlan & 63))) != 0;

    /// <summary>True when frames of <paramref name="vlan"/> leave this port with an 802.1Q tag.</summary>
    public bool IsTagged(ushort vlan) => vlan != UntaggedVlan;

    /// <summary><c>access:10</c>, or <c>trunk:10,20,30</c> with <c>+native:1</c> when there is one.</summary>
    public override string ToString()
    {
        if (Mode == VlanMode.Access)
        {
            return string.Create(CultureInfo.InvariantCulture, $"access:{UntaggedVlan}");
        }

        var list = string.Join(',', _allowed);
        return UntaggedVlan is { } native ? string.Create(CultureInfo.InvariantCulture, $"trunk:{list}+native:{native}") : $"trunk:{list}";
    }

    private static void CheckVlan(ushort vlan, string name)
    {
        if (vlan is < MinVlanId or > MaxVlanId)
        {
            throw new ArgumentOutOfRangeException(name, vlan, "a VLAN id must be 1-4094");
        }
    }
}
