using System.Runtime.InteropServices;

namespace TunTap.WireGuard.Interop;

internal static partial class Libsodium
{
    // q = X25519(n, 9): the public key of the 32-byte scalar n.
    [LibraryImport("libsodium", EntryPoint = "crypto_scalarmult_curve25519_base")]
    internal static unsafe partial int CryptoScalarmultCurve25519Base(byte* q, byte* n);
}
