namespace TunTap.Switching;

/// <summary>What <see cref="MacTable.Learn"/> did with a source address.</summary>
public enum LearnOutcome
{
    /// <summary>Known on this port already; its age was reset.</summary>
    Refreshed,

    /// <summary>A new entry.</summary>
    Learned,

    /// <summary>Known on another port before; it now points to this one.</summary>
    Moved,

    /// <summary>Not learned: the port holds its limit of addresses.</summary>
    PortLimitReached,

    /// <summary>Not learned: the table holds its global limit of addresses.</summary>
    TableFull,
}
