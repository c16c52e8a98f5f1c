# Independent reference of the WireGuard handshake, written from the paper, using CPython hashlib
# (BLAKE2 reference code) and pyca/cryptography (OpenSSL) for X25519 / ChaCha20-Poly1305.
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization as s

def H(*parts): return hashlib.blake2s(b"".join(parts)).digest()
def MAC(k, m): return hashlib.blake2s(m, key=k, digest_size=16).digest()
def HM(k, m): return hmac.new(k, m, hashlib.blake2s).digest()
def KDF(n, k, x):
    t0 = HM(k, x); out=[]; prev=b""
    for i in range(1, n+1):
        prev = HM(t0, prev + bytes([i])); out.append(prev)
    return out
def clamp(k): k=bytearray(k); k[0]&=248; k[31]=(k[31]&127)|64; return bytes(k)
def pub(k): return X25519PrivateKey.from_private_bytes(k).public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
def DH(k, p): return X25519PrivateKey.from_private_bytes(k).exchange(X25519PublicKey.from_public_bytes(p))
def AEAD(k, c, p, a): return ChaCha20Poly1305(k).encrypt(b"\0"*4 + struct.pack("<Q", c), p, a)

Si = clamp(bytes(range(1, 33))); Sr = clamp(bytes(range(101, 133)))
Spi, Spr = pub(Si), pub(Sr)
psk = bytes([0x11]*32)
Ei = clamp(bytes([0xe1]*32)); Er = clamp(bytes([0xe2]*32))
ts = struct.pack(">QI", 0x400000000000000a + 1700000000, 0x07000000)
I_idx, R_idx = 0x11223344, 0x55667788

C = H(b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"); Hh = H(C, b"WireGuard v1 zx2c4 Jason@zx2c4.com")
Hh = H(Hh, Spr)
Epi = pub(Ei)
C = KDF(1, C, Epi)[0]; Hh = H(Hh, Epi)
C, k = KDF(2, C, DH(Ei, Spr))
st = AEAD(k, 0, Spi, Hh); Hh = H(Hh, st)
C, k = KDF(2, C, DH(Si, Spr))
tsx = AEAD(k, 0, ts, Hh); Hh = H(Hh, tsx)
msg = struct.pack("<I", 1) + struct.pack("<I", I_idx) + Epi + st + tsx
msg += MAC(H(b"mac1----", Spr), msg); msg += b"\0"*16
assert len(msg) == 148
print("initiation", msg.hex())

Epr = pub(Er)
C = KDF(1, C, Epr); C = C[0]; Hh = H(Hh, Epr)
C = KDF(1, C, DH(Er, Epi))[0]
C = KDF(1, C, DH(Er, Spi))[0]
C, tau, k = KDF(3, C, psk)
Hh = H(Hh, tau)
empty = AEAD(k, 0, b"", Hh); Hh = H(Hh, empty)
resp = struct.pack("<III", 2, R_idx, I_idx) + Epr + empty
resp += MAC(H(b"mac1----", Spi), resp); resp += b"\0"*16
assert len(resp) == 92
print("response", resp.hex())
t1, t2 = KDF(2, C, b"")
print("initiator_send", t1.hex()); print("initiator_recv", t2.hex())
print("Si", Si.hex()); print("Sr", Sr.hex())
