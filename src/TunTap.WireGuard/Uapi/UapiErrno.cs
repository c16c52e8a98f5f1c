namespace TunTap.WireGuard.Uapi;

/// <summary>
/// The <c>errno=N</c> values a UAPI reply carries, exactly as wireguard-go writes them: zero for
/// success, otherwise the negated Linux errno (and -55 for anything unexpected).
/// </summary>
public static class UapiErrno
{
    /// <summary>Success.</summary>
    public const int None = 0;

    /// <summary>-EIO: reading or writing the socket failed.</summary>
    public const int Io = -5;

    /// <summary>-EINVAL: a key is unknown or a value does not parse.</summary>
    public const int Invalid = -22;

    /// <summary>-EPROTO: a line is not <c>key=value</c>.</summary>
    public const int Protocol = -71;

    /// <summary>-EADDRINUSE: the listen port cannot be bound.</summary>
    public const int PortInUse = -98;

    /// <summary>An unexpected failure (wireguard-go's ENOANO sentinel).</summary>
    public const int Unknown = -55;
}
