using System.Runtime.CompilerServices;
using TunTap.Buffers;
using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>
/// One queue of a TUN/TAP device: one non-blocking file descriptor on <c>/dev/net/tun</c>. A
/// single-queue device has one; a multi-queue device has one per queue, and the kernel spreads
/// packets over the attached ones by flow. Use one reader and one writer at a time per queue.
/// Steady-state reads and writes allocate nothing.
/// </summary>
/// <remarks>
/// Two ways to wait: the asynchronous methods wait through the shared epoll reactor (registered
/// the first time one has to wait), and the blocking ones (<see cref="ReadBatch"/>,
/// <see cref="Write"/>, <see cref="WriteBatch"/>) wait in <c>poll()</c> on the calling thread,
/// for a loop that owns a thread: the kernel then wakes that thread directly, instead of the
/// reactor's thread handing over to a pool thread (two context switches per wakeup). A queue
/// only ever used the blocking way is never registered, so the reactor is not woken by its
/// packets at all.
/// </remarks>
public sealed class TunQueue : ITunDevice
{
    /// <summary>Longest single <c>poll()</c> of a blocking call before it checks for disposal again.</summary>
    private const int PollSliceMilliseconds = 100;

    private readonly SafeFileDescriptor _fd;
    private readonly EpollReactor _reactor;
    private readonly Lock _registrationGate = new();
    private EpollRegistration? _registration;
    private readonly bool _multiQueue;
    private long _rejectedWrites;
    private int _disposed;

    /// <summary>The last read of <see cref="ReadAvailable"/> found the kernel's queue empty (EAGAIN).</summary>
    private bool _emptied;

    internal TunQueue(SafeFileDescriptor fd, string name, DeviceMode mode, int index, bool multiQueue, EpollReactor reactor)
    {
        _fd = fd;
        Name = name;
        Mode = mode;
        Index = index;
        _multiQueue = multiQueue;
        _reactor = reactor;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public DeviceMode Mode { get; }

    /// <summary>The queue's position in <see cref="TunDevice.Queues"/>.</summary>
    public int Index { get; }

    /// <summary>False after <see cref="Detach"/>: the kernel sends this queue nothing, and reading it throws.</summary>
    public bool IsAttached { get; private set; } = true;

    /// <summary>Packets the kernel refused in <see cref="WriteBatchAsync"/> (malformed, device down), since creation.</summary>
    public long RejectedWrites => Interlocked.Read(ref _rejectedWrites);

    internal SafeFileDescriptor FileDescriptor => _fd;

    /// <summary>True once an asynchronous call had to wait and so registered the queue with the epoll reactor.</summary>
    internal bool IsRegisteredWithReactor => Volatile.Read(ref _registration) is not null;

    /// <summary>Re-attaches a detached queue of a multi-queue device (TUNSETQUEUE IFF_ATTACH_QUEUE).</summary>
    public void Attach() => SetQueue(attach: true);

    /// <summary>Detaches this queue of a multi-queue device (TUNSETQUEUE IFF_DETACH_QUEUE): the kernel stops using it, the descriptor stays open.</summary>
    public void Detach() => SetQueue(attach: false);

    /// <inheritdoc/>
    /// <remarks>
    /// Each packet lands at <see cref="PacketBatch.Headroom"/> of its slot, at most
    /// <see cref="PacketBatch.MaxPacketSize"/> bytes (the kernel truncates longer ones). On a
    /// device with a virtio-net header every packet starts with its 10-byte
    /// <see cref="VirtioNetHeader"/>.
    /// </remarks>
    public ValueTask<int> ReadBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        ThrowIfDetached();
        var registration = Volatile.Read(ref _registration);
        var sequence = registration?.Readable.Sequence ?? 0;
        var count = ReadAvailable(batch);
        return count > 0 ? new ValueTask<int>(count) : ReadWhenReadableAsync(batch, registration, sequence, cancellationToken);
    }

    /// <summary>
    /// Reads a batch, blocking the calling thread (in <c>poll()</c>) up to
    /// <paramref name="timeout"/> until a packet is there; returns how many were read (also the
    /// batch's Count), 0 when the time ran out (<see cref="Timeout.InfiniteTimeSpan"/>: never;
    /// <see cref="TimeSpan.Zero"/>: just what is there). For a loop that owns its thread; the same
    /// layout as <see cref="ReadBatchAsync"/>.
    /// </summary>
    public int ReadBatch(PacketBatch batch, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a timeout is zero or more, or Timeout.InfiniteTimeSpan");
        }

        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ThrowIfDetached();
        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;

        // The last read emptied the queue: wait for the next packet first, instead of a read that
        // finds nothing (one system call less per wake-up when packets come one at a time).
        var waitFirst = _emptied;
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (!waitFirst || left <= 0)
            {
                var count = ReadAvailable(batch);
                if (count > 0 || left <= 0)
                {
                    return count;
                }
            }

            waitFirst = false;
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _ = DescriptorPoll.Wait(_fd, Libc.POLLIN, (int)Math.Min(left, PollSliceMilliseconds));
        }
    }

    /// <summary>
    /// Writes one packet (starting with its virtio-net header on a device that has one),
    /// blocking the calling thread while the kernel's queue is full. Returns false when the
    /// kernel refused the packet (also counted in <see cref="RejectedWrites"/>).
    /// </summary>
    public unsafe bool Write(ReadOnlySpan<byte> packet)
    {
        fixed (byte* start = packet)
        {
            var whole = new IoVector { Base = start, Length = (nuint)packet.Length };
            return WriteGather(&whole, 1);
        }
    }

    /// <summary>
    /// Writes one packet gathered from <paramref name="count"/> pieces (<c>writev</c>; the first
    /// starts with the virtio-net header on a device that has one), blocking the calling thread
    /// while the kernel's queue is full (<see cref="Write"/> is the one-piece form). The pieces
    /// must stay pinned for the call.
    /// </summary>
    internal unsafe bool WriteGather(IoVector* vectors, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            while (true)
            {
                if (Libc.Writev(_fd.Fd, vectors, count) >= 0)
                {
                    return true;
                }

                var errno = Syscall.LastErrno;
                switch (errno)
                {
                    case Errno.EINTR:
                        continue;
                    case Errno.EAGAIN:
                        ObjectDisposedException.ThrowIf(_disposed != 0, this);
                        _ = DescriptorPoll.Wait(_fd.Fd, Libc.POLLOUT, PollSliceMilliseconds);
                        continue;
                    case Errno.EBADF or TunIoctl.EBADFD:
                        throw IoError("write to", errno);
                    default:
                        // The kernel refused this packet (malformed, too big, device down).
                        Interlocked.Increment(ref _rejectedWrites);
                        return false;
                }
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Writes the batch's packets in order, blocking the calling thread while the kernel's queue
    /// is full; returns how many the kernel accepted (see <see cref="WriteBatchAsync"/>).
    /// </summary>
    public int WriteBatch(PacketBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var next = 0;
        var accepted = 0;
        while (!WriteAvailable(batch, ref next, ref accepted))
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            _ = DescriptorPoll.Wait(_fd, Libc.POLLOUT, PollSliceMilliseconds);
        }

        return accepted;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Packets are written in order; when the kernel's queue is full the call waits until it can
    /// write again. A packet the kernel refuses (EINVAL, EIO, EFAULT...) is skipped, counted in
    /// <see cref="RejectedWrites"/>, and not in the returned count.
    /// </remarks>
    public ValueTask<int> WriteBatchAsync(PacketBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        var registration = Volatile.Read(ref _registration);
        var sequence = registration?.Writable.Sequence ?? 0;
        var next = 0;
        var accepted = 0;
        return WriteAvailable(batch, ref next, ref accepted)
            ? new ValueTask<int>(accepted)
            : WriteWhenWritableAsync(batch, registration, next, accepted, sequence, cancellationToken);
    }

    /// <summary>Stops watching the queue, fails pending reads and writes, and closes the descriptor.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            lock (_registrationGate)
            {
                _registration?.Dispose();
            }

            _fd.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadWhenReadableAsync(PacketBatch batch, EpollRegistration? registration, int sequence, CancellationToken cancellationToken)
    {
        if (registration is null)
        {
            // First wait: register, then look again (a packet may have come before the registration).
            registration = Register();
            sequence = registration.Readable.Sequence;
            var count = ReadAvailable(batch);
            if (count > 0)
            {
                return count;
            }
        }

        while (true)
        {
            await registration.Readable.WaitAsync(sequence, cancellationToken).ConfigureAwait(false);
            sequence = registration.Readable.Sequence;
            var count = ReadAvailable(batch);
            if (count > 0)
            {
                return count;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WriteWhenWritableAsync(PacketBatch batch, EpollRegistration? registration, int next, int accepted, int sequence, CancellationToken cancellationToken)
    {
        if (registration is null)
        {
            registration = Register();
            sequence = registration.Writable.Sequence;
            if (WriteAvailable(batch, ref next, ref accepted))
            {
                return accepted;
            }
        }

        while (true)
        {
            await registration.Writable.WaitAsync(sequence, cancellationToken).ConfigureAwait(false);
            sequence = registration.Writable.Sequence;
            if (WriteAvailable(batch, ref next, ref accepted))
            {
                return accepted;
            }
        }
    }

    /// <summary>Reads packets until EAGAIN or the batch is full; returns how many (also set as the batch's Count).</summary>
    private unsafe int ReadAvailable(PacketBatch batch)
    {
        var count = 0;
        var emptied = false;
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var fd = _fd.Fd;
            var headroom = batch.Headroom;
            var max = (nuint)batch.MaxPacketSize;
            while (count < batch.Capacity)
            {
                nint read;
                fixed (byte* start = &batch.GetArray(count)[headroom])
                {
                    read = Libc.Read(fd, start, max);
                }

                if (read > 0)
                {
                    batch.SetLength(count, (int)read);
                    count++;
                    continue;
                }

                if (read == 0)
                {
                    break;
                }

                var errno = Syscall.LastErrno;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno == Errno.EAGAIN || count > 0)
                {
                    // With packets in hand, report them; a lasting error recurs on the next call.
                    emptied = errno == Errno.EAGAIN;
                    break;
                }

                throw IoError("read from", errno);
            }
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }

        batch.Count = count;
        _emptied = emptied;
        return count;
    }

    /// <summary>Writes packets from <paramref name="next"/> on; false when the kernel said EAGAIN (wait for writable, then call again).</summary>
    private unsafe bool WriteAvailable(PacketBatch batch, ref int next, ref int accepted)
    {
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var fd = _fd.Fd;
            while (next < batch.Count)
            {
                var packet = batch[next];
                nint written;
                fixed (byte* start = packet)
                {
                    written = Libc.Write(fd, start, (nuint)packet.Length);
                }

                if (written >= 0)
                {
                    accepted++;
                    next++;
                    continue;
                }

                var errno = Syscall.LastErrno;
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno == Errno.EAGAIN)
                {
                    return false;
                }

                if (errno is Errno.EBADF or TunIoctl.EBADFD)
                {
                    throw IoError("write to", errno);
                }

                // The kernel refused this packet (malformed, too big, device down): drop it.
                Interlocked.Increment(ref _rejectedWrites);
                next++;
            }

            return true;
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    /// <summary>The reactor registration, made on first use (the reader and the writer may race to it).</summary>
    private EpollRegistration Register()
    {
        lock (_registrationGate)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_registration is null)
            {
                Volatile.Write(ref _registration, _reactor.Register(_fd));
            }

            return _registration;
        }
    }

    private void ThrowIfDetached()
    {
        if (!IsAttached)
        {
            // The kernel would just never deliver anything to it: say so instead of waiting forever.
            throw new TunTapException($"queue {Index} of '{Name}' is detached: the kernel sends it no packets", "attach it again (TunQueue.Attach) or read from an attached queue");
        }
    }

    private TunTapException IoError(string verb, int errno) => errno == TunIoctl.EBADFD
        ? new TunTapException($"queue {Index} of '{Name}' is detached", "attach it again (TunQueue.Attach) or use an attached queue", new SystemCallException($"{verb} '{Name}'", errno))
        : new SystemCallException($"{verb} '{Name}' (queue {Index})", errno);

    private unsafe void SetQueue(bool attach)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!_multiQueue)
        {
            throw new TunTapException($"'{Name}' is not a multi-queue device: its only queue cannot be attached or detached", "create it with MultiQueue = true");
        }

        if (IsAttached == attach)
        {
            return;
        }

        Span<byte> request = stackalloc byte[InterfaceRequest.Size];
        InterfaceRequest.Encode(request, "", attach ? TunIoctl.IFF_ATTACH_QUEUE : TunIoctl.IFF_DETACH_QUEUE);
        fixed (byte* pointer = request)
        {
            TunIoctl.Invoke(_fd, TunIoctl.TUNSETQUEUE, pointer, $"{(attach ? "attach" : "detach")} queue {Index} of '{Name}'");
        }

        IsAttached = attach;
    }
}
