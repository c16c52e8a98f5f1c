namespace TunTap.Switching;

/// <summary>What a <see cref="SwitchControlRequest"/> asks a running switch to do.</summary>
public enum SwitchControlCommand
{
    /// <summary><c>port add SPEC</c>: open a port and add it.</summary>
    PortAdd,

    /// <summary><c>port del ID|NAME</c>: stop a port and remove it.</summary>
    PortDel,

    /// <summary><c>port unblock ID|NAME</c>: let a port loop protection blocked forward again, now.</summary>
    PortUnblock,

    /// <summary><c>port list</c>: the ports with their VLANs and state.</summary>
    PortList,

    /// <summary><c>mac</c>: the learned MAC addresses.</summary>
    Mac,

    /// <summary><c>stats</c>: every port's counters.</summary>
    Stats,
}
