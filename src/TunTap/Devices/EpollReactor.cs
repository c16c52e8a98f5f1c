using System.Runtime.InteropServices;
using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>
/// One background thread that waits in <c>epoll_wait</c> on every registered file descriptor
/// and completes the awaitables of the ones that became ready, so no thread is parked per device.
/// Descriptors are registered once, edge-triggered for both directions: no <c>epoll_ctl</c> per
/// wait (level-triggered would need one-shot re-arming per wait, or would report an almost always
/// writable descriptor on every round), at the price of the sequence check that
/// <see cref="ReadinessSignal"/> does. An eventfd wakes the thread to shut it down.
/// </summary>
internal sealed class EpollReactor : IDisposable
{
    private const int MaxEventsPerWait = 64;
    private const ulong WakeupId = 0;
    private static readonly Lazy<EpollReactor> SharedInstance = new(() => new EpollReactor("tuntap-epoll"));

    private readonly SafeFileDescriptor _epoll;
    private readonly SafeFileDescriptor _wakeup;
    private readonly Thread _thread;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, EpollRegistration> _registrations = [];
    private ulong _nextId = WakeupId + 1;
    private volatile bool _stopping;

    /// <summary>Starts a reactor whose thread is named <paramref name="threadName"/>.</summary>
    public EpollReactor(string threadName)
    {
        _epoll = new SafeFileDescriptor(Syscall.Check(Libc.EpollCreate1(Libc.EPOLL_CLOEXEC), "epoll_create1"));
        try
        {
            _wakeup = new SafeFileDescriptor(Syscall.Check(Libc.Eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd"));
            Control(Libc.EPOLL_CTL_ADD, _wakeup.Fd, Libc.EPOLLIN, WakeupId, "epoll_ctl(ADD eventfd)");
        }
        catch
        {
            _wakeup?.Dispose();
            _epoll.Dispose();
            throw;
        }

        _thread = new Thread(RunEventLoop) { IsBackground = true, Name = threadName };
        _thread.Start();
    }

    /// <summary>The process-wide reactor every <see cref="TunQueue"/> uses.</summary>
    public static EpollReactor Shared => SharedInstance.Value;

    /// <summary>Starts watching <paramref name="fd"/> (which must be non-blocking).</summary>
    public EpollRegistration Register(SafeFileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ObjectDisposedException.ThrowIf(_stopping, this);
        EpollRegistration registration;
        lock (_gate)
        {
            registration = new EpollRegistration(this, fd, _nextId++);
            _registrations.Add(registration.Id, registration);
        }

        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            Control(Libc.EPOLL_CTL_ADD, fd.Fd, Libc.EPOLLIN | Libc.EPOLLOUT | Libc.EPOLLET, registration.Id, "epoll_ctl(ADD)");
        }
        catch
        {
            lock (_gate)
            {
                _registrations.Remove(registration.Id);
            }

            throw;
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }

        return registration;
    }

    /// <summary>Stops watching; called by <see cref="EpollRegistration.Dispose"/>.</summary>
    internal void Unregister(EpollRegistration registration)
    {
        lock (_gate)
        {
            if (!_registrations.Remove(registration.Id))
            {
                return;
            }
        }

        var added = false;
        try
        {
            registration.FileDescriptor.DangerousAddRef(ref added);
            unsafe
            {
                // Errors are fine: a closed descriptor has already left the epoll set.
                _ = Libc.EpollCtl(_epoll.Fd, Libc.EPOLL_CTL_DEL, registration.FileDescriptor.Fd, null);
            }
        }
        catch (ObjectDisposedException)
        {
            // Already closed, and so already removed from the epoll set.
        }
        finally
        {
            if (added)
            {
                registration.FileDescriptor.DangerousRelease();
            }
        }
    }

    /// <summary>Stops the thread, closes the epoll descriptor and fails every pending wait.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        unsafe
        {
            ulong one = 1;
            _ = Libc.Write(_wakeup.Fd, (byte*)&one, sizeof(ulong));
        }

        _thread.Join();
        EpollRegistration[] remaining;
        lock (_gate)
        {
            remaining = [.. _registrations.Values];
        }

        foreach (var registration in remaining)
        {
            registration.Dispose();
        }

        _wakeup.Dispose();
        _epoll.Dispose();
    }

    private unsafe void Control(int operation, int fd, uint events, ulong id, string what)
    {
        var size = EpollEventLayout.Size;
        var buffer = stackalloc byte[16];
        var span = new Span<byte>(buffer, size);
        MemoryMarshal.Write(span, in events);
        MemoryMarshal.Write(span[EpollEventLayout.DataOffset..], in id);
        Syscall.Check(Libc.EpollCtl(_epoll.Fd, operation, fd, buffer), what);
    }

    /// <summary>
    /// A thread starts in its creator's network namespace; when the first device is created from
    /// inside <c>NetworkNamespace.Run</c>, that is a namespace the reactor must not keep alive.
    /// The reactor needs no namespace, so it joins the main thread's (best effort: without
    /// CAP_SYS_ADMIN there is no other namespace to have come from anyway).
    /// </summary>
    private void FailAll(Exception exception)
    {
        EpollRegistration[] registrations;
        lock (_gate)
        {
            registrations = [.. _registrations.Values];
        }

        foreach (var registration in registrations)
        {
            registration.Readable.Fault(exception);
            registration.Writable.Fault(exception);
        }
    }

    private static void LeaveCreatorsNamespace()
    {
        var fd = Libc.Open("/proc/self/ns/net", Libc.O_CLOEXEC);
        if (fd < 0)
        {
            return;
        }

        using var handle = new SafeFileDescriptor(fd);
        _ = Libc.Setns(handle.Fd, Libc.CLONE_NEWNET);
    }

    private unsafe void RunEventLoop()
    {
        LeaveCreatorsNamespace();
        var size = EpollEventLayout.Size;
        var dataOffset = EpollEventLayout.DataOffset;
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEventsPerWait * size));
        try
        {
            while (!_stopping)
            {
                var count = Libc.EpollWait(_epoll.Fd, events, MaxEventsPerWait, -1);
                if (count < 0)
                {
                    var errno = Syscall.LastErrno;
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    FailAll(new SystemCallException("epoll_wait", errno));
                    break;
                }

                for (var i = 0; i < count; i++)
                {
                    var entry = new ReadOnlySpan<byte>(events + (i * size), size);
                    var mask = MemoryMarshal.Read<uint>(entry);
                    var id = MemoryMarshal.Read<ulong>(entry[dataOffset..]);
                    if (id == WakeupId)
                    {
                        continue;
                    }

                    EpollRegistration? registration;
                    lock (_gate)
                    {
                        _registrations.TryGetValue(id, out registration);
                    }

                    registration?.Notify(mask);
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }
}
