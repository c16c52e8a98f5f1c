namespace TunTap.WireGuard.Crypto;

/// <summary>
/// Fills <paramref name="destination"/> with random bytes. Production code passes
/// <see cref="System.Security.Cryptography.RandomNumberGenerator.Fill"/>; tests pass a seeded source
/// so handshakes are reproducible.
/// </summary>
public delegate void RandomFill(Span<byte> destination);
