using System.Runtime.InteropServices;

namespace TunTap.WireGuard.Interop;

internal static partial class Libsodium
{
    // c (mlen + 16 bytes: ciphertext then tag) = XChaCha20-Poly1305(k, npub, m, ad); nsec is unused (null).
    [LibraryImport("libsodium", EntryPoint = "crypto_aead_xchacha20poly1305_ietf_encrypt")]
    internal static unsafe partial int CryptoAeadXChaCha20Poly1305IetfEncrypt(
        byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);
}
