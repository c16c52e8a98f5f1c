namespace TunTap.Emulation.Topology;

/// <summary>A host of a topology: one network namespace.</summary>
/// <param name="Name">The host's name (letters, digits, '_', '-').</param>
/// <param name="IsRouter">True when it forwards packets between its links (ip_forward=1).</param>
/// <param name="Routes">Routes given in the file, added after the automatic ones.</param>
/// <param name="Line">The file line that declares it (1-based).</param>
public sealed record TopologyHost(string Name, bool IsRouter, IReadOnlyList<TopologyRoute> Routes, int Line);
