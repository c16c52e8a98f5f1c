using System.Security.Cryptography;
using TunTap.WireGuard.Crypto;

namespace TunTap.WireGuard;

/// <summary>Interface-wide settings of a <see cref="WireGuardDevice"/> (what <c>wg</c> calls the interface section).</summary>
public sealed class WireGuardDeviceOptions
{
    /// <summary>Our private key.</summary>
    public required WireGuardKey PrivateKey { get; init; }

    /// <summary>The tunnel MTU: packets are padded up to it, never past it.</summary>
    public int Mtu { get; init; } = 1420;

    /// <summary>Packets read from the TUN device per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Handshake messages per second above which the device is "under load" and demands cookies (MAC2).</summary>
    public int HandshakesPerSecondBeforeCookies { get; init; } = 1000;

    /// <summary>
    /// Whether every packet on the TUN device carries a <see cref="TunTap.Devices.VirtioNetHeader"/>
    /// (a device opened with offloads): then TCP super packets read are segmented before encryption
    /// and TCP segments received are coalesced before they are written. Null: true exactly for a
    /// <see cref="TunTap.Devices.TunDevice"/> opened with <see cref="TunTap.Devices.TunDeviceOptions.VnetHeader"/>.
    /// </summary>
    public bool? VnetHeader { get; init; }

    /// <summary>
    /// Encrypt large outgoing batches on two threads (the TUN reader and a helper); counters are
    /// still claimed and datagrams still sent in order. Off by default: on a 2-core machine, where
    /// iperf3, the kernel and both tunnel ends share the cores, it measured slower (single TCP
    /// stream 1.4-2.4 Gbit/s against 2.6-2.9 without, same run).
    /// </summary>
    public bool ParallelEncryption { get; init; }

    /// <summary>Clock for timers, key ages and timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Randomness for ephemeral keys, indexes and cookies.</summary>
    public RandomFill Random { get; init; } = RandomNumberGenerator.Fill;

    /// <summary>Seed for the timers' jitter.</summary>
    public int JitterSeed { get; init; } = Environment.TickCount;
}
