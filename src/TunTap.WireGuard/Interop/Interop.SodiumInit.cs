using System.Runtime.InteropServices;

namespace TunTap.WireGuard.Interop;

internal static partial class Libsodium
{
    // The libsodium that NSec ships (NuGet package "libsodium") and loads; 0 = initialised now,
    // 1 = already initialised (NSec does it too), -1 = failure.
    [LibraryImport("libsodium", EntryPoint = "sodium_init")]
    internal static partial int SodiumInit();
}
