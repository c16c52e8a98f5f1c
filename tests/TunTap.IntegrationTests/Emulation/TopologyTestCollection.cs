namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// The topology tests run alone, after the parallel ones: each brings up several namespaces with a
/// writer thread per link direction, and both they and the timing-sensitive emulation tests
/// (ping RTT bounds) would otherwise measure each other's load.
/// </summary>
[CollectionDefinition(nameof(TopologyTestCollection), DisableParallelization = true)]
public sealed class TopologyTestCollection;
