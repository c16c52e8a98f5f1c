using System.Runtime.InteropServices;

namespace TunTap.WireGuard.Interop;

internal static partial class Libsodium
{
    // q = X25519(n, p); all three are 32 bytes. Returns -1 when q is all zero (a low-order p).
    [LibraryImport("libsodium", EntryPoint = "crypto_scalarmult_curve25519")]
    internal static unsafe partial int CryptoScalarmultCurve25519(byte* q, byte* n, byte* p);
}
