using System.Runtime.InteropServices;

namespace TunTap.WireGuard.Interop;

internal static partial class Libsodium
{
    // m (clen - 16 bytes) from c; -1 (and m zeroed) when the tag does not verify. nsec is unused (null).
    [LibraryImport("libsodium", EntryPoint = "crypto_aead_xchacha20poly1305_ietf_decrypt")]
    internal static unsafe partial int CryptoAeadXChaCha20Poly1305IetfDecrypt(
        byte* m, ulong* mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
}
