namespace TunTap.IntegrationTests.Tunnel;

/// <summary>
/// Tests that measure process-wide allocations run in this collection: alone, after the parallel
/// ones, because whatever another test allocates meanwhile would be counted too.
/// </summary>
[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;
