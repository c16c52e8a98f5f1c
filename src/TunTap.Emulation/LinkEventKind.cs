namespace TunTap.Emulation;

/// <summary>What happened to a packet inside a <see cref="LinkModel"/> (see <see cref="LinkEvent"/>).</summary>
public enum LinkEventKind
{
    /// <summary>The packet entered the link.</summary>
    Arrival,

    /// <summary>The packet left the link (its departure time; the device write follows).</summary>
    Departure,

    /// <summary>The link dropped the packet (<see cref="LinkEvent.Reason"/> says why).</summary>
    Drop,

    /// <summary>Duplication made a copy, which travels on under its own packet id.</summary>
    Duplicate,
}
