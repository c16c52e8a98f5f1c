namespace TunTap.IntegrationTests.Emulation;

/// <summary>
/// Tests that measure time (ping RTTs against a configured delay, goodput against a configured
/// rate) run in this collection: alone, after the parallel ones, so an iperf3 transfer in another
/// test cannot take the CPU they measure with. Their bounds stay loose for a busy machine anyway.
/// </summary>
[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;
