namespace TunTap;

/// <summary>Linux errno values the library reacts to, and their symbolic names.</summary>
public static class Errno
{
#pragma warning disable CS1591 // The names are the documentation.
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EINVAL = 22;
    public const int ENFILE = 23;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int EMSGSIZE = 90;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EADDRINUSE = 98;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETDOWN = 100;
    public const int ENETUNREACH = 101;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
#pragma warning restore CS1591

    /// <summary>The symbolic name of <paramref name="errno"/>, or <c>errno N</c> when unknown.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EIO => "EIO",
        ENXIO => "ENXIO",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EFAULT => "EFAULT",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ENOSYS => "ENOSYS",
        ENOTEMPTY => "ENOTEMPTY",
        EMSGSIZE => "EMSGSIZE",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EADDRINUSE => "EADDRINUSE",
        EADDRNOTAVAIL => "EADDRNOTAVAIL",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ECONNRESET => "ECONNRESET",
        ENOBUFS => "ENOBUFS",
        ECONNREFUSED => "ECONNREFUSED",
        EHOSTUNREACH => "EHOSTUNREACH",
        _ => $"errno {errno}",
    };

    /// <summary>A generic fix for errors whose cause is almost always the same.</summary>
    public static string? DefaultHint(int errno) => errno switch
    {
        EPERM or EACCES => "this needs CAP_NET_ADMIN: run as root (sudo) or grant the capability (setcap cap_net_admin+ep)",
        _ => null,
    };
}
