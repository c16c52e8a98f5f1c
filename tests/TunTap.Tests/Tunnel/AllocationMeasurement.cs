namespace TunTap.Tests.Tunnel;

/// <summary>Tests that measure process-wide allocations run alone: parallel tests would be counted too.</summary>
[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;
