using System.Runtime.ExceptionServices;
using Microsoft.Win32.SafeHandles;
using TunTap.Interop;

namespace TunTap.Netlink;

/// <summary>
/// Named network namespaces, kept the way <c>ip netns</c> keeps them: a bind mount of the
/// namespace under <c>/run/netns/NAME</c>, so <c>ip netns list</c> and <c>ip netns exec</c> see
/// ours and we see theirs. Code runs inside one on a dedicated thread (a namespace belongs to a
/// thread, not a process), so the caller's threads never change namespace.
/// </summary>
public static class NetworkNamespace
{
    /// <summary>Where named namespaces are mounted.</summary>
    public const string Directory = "/run/netns";

    /// <summary>The mount path of the namespace <paramref name="name"/>.</summary>
    public static string PathOf(string name)
    {
        ValidateName(name);
        return System.IO.Path.Combine(Directory, name);
    }

    /// <summary>True when a namespace of that name exists.</summary>
    public static bool Exists(string name) => File.Exists(PathOf(name));

    /// <summary>Throws the error every command gives for a namespace that does not exist (with the fix).</summary>
    /// <exception cref="TunTapException">No namespace of that name.</exception>
    public static void RequireExists(string name)
    {
        if (!Exists(name))
        {
            throw Unknown(name);
        }
    }

    /// <summary>The names of all named namespaces, sorted.</summary>
    public static IReadOnlyList<string> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var names = new List<string>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory))
        {
            names.Add(System.IO.Path.GetFileName(path));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Creates a new, empty network namespace named <paramref name="name"/>.</summary>
    /// <exception cref="TunTapException">The name is invalid or taken, or we lack the privilege.</exception>
    public static void Create(string name)
    {
        var path = PathOf(name);
        EnsureSharedMountDirectory();
        try
        {
            using (File.Open(path, FileMode.CreateNew, FileAccess.Write))
            {
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new TunTapException($"network namespace '{name}' already exists", "pick another name, or delete it with 'ip netns del " + name + "'");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TunTapException($"cannot create network namespace '{name}': {e.Message}", Errno.DefaultHint(Errno.EACCES), e);
        }

        try
        {
            OnDedicatedThread(() =>
            {
                Syscall.Check(Libc.Unshare(Libc.CLONE_NEWNET), "unshare(CLONE_NEWNET)");
                Syscall.Check(Libc.Mount("/proc/thread-self/ns/net", path, "none", Libc.MS_BIND, 0), $"mount namespace at {path}");
                return 0;
            });
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Deletes the namespace <paramref name="name"/>; its devices go with it once no process uses it.</summary>
    /// <exception cref="TunTapException">No namespace of that name exists.</exception>
    public static void Delete(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            throw Unknown(name);
        }

        if (Libc.Umount2(path, Libc.MNT_DETACH) < 0 && Syscall.LastErrno != Errno.EINVAL)
        {
            throw new SystemCallException($"umount {path}", Syscall.LastErrno);
        }

        File.Delete(path);
    }

    /// <summary>
    /// Runs <paramref name="action"/> inside the namespace <paramref name="name"/> on a dedicated
    /// thread and returns its result (or rethrows its exception). Sockets, devices and processes
    /// created there stay in that namespace.
    /// </summary>
    public static T Run<T>(string name, Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        using var handle = OpenHandle(name);
        var fd = (int)handle.DangerousGetHandle();
        return OnDedicatedThread(() =>
        {
            Syscall.Check(Libc.Setns(fd, Libc.CLONE_NEWNET), $"setns into network namespace '{name}'");
            return action();
        });
    }

    /// <summary>Runs <paramref name="action"/> inside the namespace <paramref name="name"/>.</summary>
    public static void Run(string name, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run(name, () =>
        {
            action();
            return 0;
        });
    }

    /// <summary>Opens the namespace <paramref name="name"/> (for setns or IFLA_NET_NS_FD); unknown names throw a <see cref="TunTapException"/>.</summary>
    internal static SafeFileHandle OpenHandle(string name)
    {
        var path = PathOf(name);
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Unknown(name);
        }
    }

    private static T OnDedicatedThread<T>(Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
#pragma warning disable CA1031 // Rethrown on the caller's thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "tuntap-netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private static void EnsureSharedMountDirectory()
    {
        System.IO.Directory.CreateDirectory(Directory);

        // Like ip(8): make /run/netns a shared mount point so namespaces mounted here propagate
        // to other mount namespaces; bind it onto itself first if it is not a mount point yet.
        if (Libc.Mount("", Directory, "none", Libc.MS_SHARED | Libc.MS_REC, 0) == 0)
        {
            return;
        }

        if (Syscall.LastErrno != Errno.EINVAL)
        {
            throw new SystemCallException($"mount --make-shared {Directory}", Syscall.LastErrno);
        }

        Syscall.Check(Libc.Mount(Directory, Directory, "none", Libc.MS_BIND | Libc.MS_REC, 0), $"mount --bind {Directory}");
        Syscall.Check(Libc.Mount("", Directory, "none", Libc.MS_SHARED | Libc.MS_REC, 0), $"mount --make-shared {Directory}");
    }

    private static void ValidateName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 255 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new TunTapException($"'{name}' is not a valid network namespace name", "use 1-255 characters without '/'");
        }
    }

    private static TunTapException Unknown(string name) =>
        new($"network namespace '{name}' does not exist", "list them with 'ip netns list', or create one with 'ip netns add " + name + "'");
}
