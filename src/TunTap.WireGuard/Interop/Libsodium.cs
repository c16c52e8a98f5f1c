using System.Security.Cryptography;

namespace TunTap.WireGuard.Interop;

/// <summary>
/// Direct calls into libsodium, the native library the NSec package ships and loads, for the
/// handshake primitives whose NSec wrappers would put every key and result in a fresh
/// <c>sodium_malloc</c> mapping. One <c>LibraryImport</c> per file (<c>Interop.&lt;Function&gt;.cs</c>).
/// </summary>
internal static partial class Libsodium
{
    private static bool s_initialized;

    /// <summary>Initialises libsodium (idempotent, thread-safe; NSec calls it too) before the first direct call.</summary>
    internal static void EnsureInitialized()
    {
        if (!Volatile.Read(ref s_initialized))
        {
            // sodium_init picks the fastest implementation for this CPU; -1 is failure.
            if (SodiumInit() < 0)
            {
                throw new CryptographicException("libsodium failed to initialise");
            }

            Volatile.Write(ref s_initialized, true);
        }
    }
}
