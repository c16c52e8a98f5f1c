using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>A file descriptor watched by an <see cref="EpollReactor"/>, with one awaitable per direction.</summary>
internal sealed class EpollRegistration : IDisposable
{
    private readonly EpollReactor _reactor;
    private int _disposed;

    internal EpollRegistration(EpollReactor reactor, SafeFileDescriptor fd, ulong id)
    {
        _reactor = reactor;
        FileDescriptor = fd;
        Id = id;
    }

    /// <summary>The watched descriptor.</summary>
    public SafeFileDescriptor FileDescriptor { get; }

    /// <summary>The epoll user data identifying this registration (never reused).</summary>
    public ulong Id { get; }

    /// <summary>Signalled when the descriptor becomes readable (or reports an error or hang-up).</summary>
    public ReadinessSignal Readable { get; } = new();

    /// <summary>Signalled when the descriptor becomes writable (or reports an error or hang-up).</summary>
    public ReadinessSignal Writable { get; } = new();

    /// <summary>Dispatches the epoll event mask the reactor saw.</summary>
    internal void Notify(uint events)
    {
        const uint Failure = Libc.EPOLLERR | Libc.EPOLLHUP;
        if ((events & (Libc.EPOLLIN | Failure)) != 0)
        {
            Readable.Signal();
        }

        if ((events & (Libc.EPOLLOUT | Failure)) != 0)
        {
            Writable.Signal();
        }
    }

    /// <summary>Stops watching the descriptor and fails pending waits with <see cref="ObjectDisposedException"/>; the descriptor itself is not closed.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _reactor.Unregister(this);
        var closed = new ObjectDisposedException(nameof(TunQueue), "the device queue was closed");
        Readable.Fault(closed);
        Writable.Fault(closed);
    }
}
