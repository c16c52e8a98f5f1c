namespace TunTap.IntegrationTests.Switching;

/// <summary>
/// QEMU guests under TCG keep the CPUs busy while they boot: their tests run alone, so they
/// neither slow down timing-sensitive tests running beside them nor are slowed down by them.
/// </summary>
[CollectionDefinition(nameof(QemuVmCollection), DisableParallelization = true)]
public sealed class QemuVmCollection;
