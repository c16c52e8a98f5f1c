using System.Globalization;
using TunTap.WireGuard.Timers;

namespace TunTap.Cli.Commands;

/// <summary>
/// TEST ONLY (behind the hidden <c>--test-rekey-after-seconds</c> option): a clock whose monotonic
/// timestamps run <c>RekeyAfterTime / seconds</c> times faster than real time, so keypairs age that
/// much faster and every age limit (rekey after 120 s, reject after 180 s, the 5 s gap between
/// initiations, the cookie secret's lifetime, the one-second window that decides "under load")
/// shrinks by the same factor. Timers and the wall clock
/// (handshake timestamps, <c>wg show</c>'s latest handshake) keep real time, so retransmits and
/// keepalives behave as in production and peers such as wireguard-go accept our handshakes.
/// </summary>
internal sealed class WgTestClock : TimeProvider
{
    private readonly long _start = System.GetTimestamp();
    private readonly double _speed;

    public WgTestClock(double rekeyAfterSeconds)
    {
        if (!(rekeyAfterSeconds is >= 1 and <= 120))
        {
            throw new TunTapException(
                $"--test-rekey-after-seconds {rekeyAfterSeconds.ToString(CultureInfo.InvariantCulture)} is out of range",
                "use 1 to 120 seconds (this option is for tests only)");
        }

        _speed = WireGuardTimings.RekeyAfterTime.TotalSeconds / rekeyAfterSeconds;
    }

    /// <inheritdoc/>
    public override long GetTimestamp() => _start + (long)((System.GetTimestamp() - _start) * _speed);
}
