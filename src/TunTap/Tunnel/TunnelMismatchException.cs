namespace TunTap.Tunnel;

/// <summary>
/// The two ends of a tunnel disagree on mode, MTU, compression or protocol version. Both ends
/// throw it: the message names both values, e.g. <c>mode mismatch: this end is tun, the peer is tap</c>.
/// </summary>
public sealed class TunnelMismatchException : TunTapException
{
    /// <summary>Creates the exception from a mismatch description (see <see cref="TunnelHello.DescribeMismatch"/>).</summary>
    public TunnelMismatchException(string message)
        : base(message, "start both ends with the same --mode, --mtu and --compress settings")
    {
    }

    /// <summary>Creates the exception without a description.</summary>
    public TunnelMismatchException()
        : this("tunnel settings mismatch")
    {
    }

    /// <summary>Creates the exception with an inner exception.</summary>
    public TunnelMismatchException(string message, Exception innerException)
        : base(message, "start both ends with the same --mode, --mtu and --compress settings", innerException)
    {
    }
}
