using System.Net.Sockets;
using System.Runtime.InteropServices;
using TunTap.Interop;

namespace TunTap.Services;

/// <summary>
/// Listening Unix stream sockets for services (control sockets, the WireGuard UAPI, VM ports):
/// the directory is created (0755) when missing; a socket left by a process that died is
/// replaced, one a live process answers on is not, and a path that is not a socket is never
/// touched. With <c>ownerOnly</c> the socket is bound in a private directory, made 0600 and
/// renamed into place, so it is never reachable with looser permissions whatever the umask.
/// </summary>
public static class UnixSocketListener
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Binds and listens on <paramref name="path"/>.</summary>
    /// <param name="path">The socket's path.</param>
    /// <param name="backlog">Pending connections the kernel queues.</param>
    /// <param name="ownerOnly">Mode 0600 from the start (else the umask decides, so other users' programs, e.g. QEMU, may connect).</param>
    /// <param name="inUse">The error when a live process already answers on <paramref name="path"/>.</param>
    /// <exception cref="TunTapException">In use, not a socket, or the socket cannot be created.</exception>
    public static Socket Listen(string path, int backlog, bool ownerOnly, Func<TunTapException> inUse)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(inUse);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Unix sockets with Unix file modes");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string? staging = null;
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            RemoveStale(path, inUse);
            if (ownerOnly)
            {
                staging = Directory.CreateDirectory(Path.Combine(directory, $".{Path.GetFileName(path)}-{Guid.NewGuid():N}"), PrivateDirectoryMode).FullName;
                var bound = Path.Combine(staging, "s");
                listener.Bind(new UnixDomainSocketEndPoint(bound));
                File.SetUnixFileMode(bound, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.Move(bound, path, overwrite: false);
            }
            else
            {
                listener.Bind(new UnixDomainSocketEndPoint(path));
            }

            listener.Listen(backlog);
            return listener;
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            listener.Dispose();
            throw new TunTapException($"cannot create the socket {path}: {e.Message}", "check that its directory is writable (control sockets under /run need root)", e);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        finally
        {
            if (staging is not null)
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>True when a process accepts connections on <paramref name="path"/>.</summary>
    public static bool IsAnswering(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="path"/> is a socket (not following a symbolic link).</summary>
    public static unsafe bool IsSocket(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> buffer = stackalloc byte[Libc.StatxSize];
        fixed (byte* pointer = buffer)
        {
            if (Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE, pointer) != 0)
            {
                return false;
            }
        }

        var mode = MemoryMarshal.Read<ushort>(buffer[Libc.StatxModeOffset..]);
        return (mode & Libc.S_IFMT) == Libc.S_IFSOCK;
    }

    /// <summary>Deletes the socket at <paramref name="path"/> when there is one (a file that is not a socket is left alone).</summary>
    public static void Remove(string path)
    {
        try
        {
            if (IsSocket(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or not ours to remove.
        }
    }

    private static void RemoveStale(string path, Func<TunTapException> inUse)
    {
        if (!File.Exists(path) && !IsSocket(path))
        {
            return;
        }

        if (!IsSocket(path))
        {
            throw new TunTapException($"'{path}' exists and is not a socket", "pick another path, or move that file away");
        }

        if (IsAnswering(path))
        {
            throw inUse();
        }

        // Nobody answers: left by a process that was killed.
        File.Delete(path);
    }
}
