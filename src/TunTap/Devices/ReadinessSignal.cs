using System.Threading.Tasks.Sources;

namespace TunTap.Devices;

/// <summary>
/// One direction (readable or writable) of one file descriptor watched by the
/// <see cref="EpollReactor"/>: a reusable awaitable that completes when the reactor reports an
/// edge. Every edge bumps <see cref="Sequence"/>; a consumer reads it before trying its syscall
/// and passes it to <see cref="WaitAsync"/>, which completes at once when an edge arrived in
/// between. That closes the race of edge-triggered epoll (an edge between EAGAIN and the wait
/// would otherwise be lost) without a re-arming syscall per wait. One waiter at a time; awaiting
/// allocates nothing (the <see cref="ManualResetValueTaskSourceCore{TResult}"/> is reused).
/// </summary>
internal sealed class ReadinessSignal : IValueTaskSource
{
    private readonly Lock _gate = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _waitToken;
    private Exception? _fault;
    private int _sequence;
    private bool _waiting;

    /// <summary>Edges seen so far (wraps around; only compared for equality).</summary>
    public int Sequence => Volatile.Read(ref _sequence);

    /// <summary>
    /// Completes when an edge arrives after <paramref name="observedSequence"/> was read (at once
    /// if one already has), faults with <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires, or with the fault set by <see cref="Fault"/>.
    /// </summary>
    public ValueTask WaitAsync(int observedSequence, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        lock (_gate)
        {
            if (_fault is not null)
            {
                return ValueTask.FromException(_fault);
            }

            if (_sequence != observedSequence)
            {
                return ValueTask.CompletedTask;
            }

            if (_waiting)
            {
                throw new InvalidOperationException("another read or write is already waiting on this queue; use one reader and one writer per queue");
            }

            _core.Reset();
            _waiting = true;
            _waitToken = cancellationToken;
            if (cancellationToken.CanBeCanceled)
            {
                // A callback already running for an earlier wait is told apart by its token.
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((ReadinessSignal)state!).Cancel(token), this);
            }

            return new ValueTask(this, _core.Version);
        }
    }

    /// <summary>Called by the reactor thread for each edge.</summary>
    public void Signal()
    {
        CancellationTokenRegistration registration;
        lock (_gate)
        {
            _sequence++;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            registration = _cancellation;
            _cancellation = default;
            _waitToken = default;
        }

        // Unregister, not Dispose: never block the reactor thread on a running callback.
        registration.Unregister();
        _core.SetResult(true);
    }

    /// <summary>Fails the pending wait, and every later one, with <paramref name="exception"/>.</summary>
    public void Fault(Exception exception)
    {
        CancellationTokenRegistration registration;
        lock (_gate)
        {
            _fault ??= exception;
            if (!_waiting)
            {
                return;
            }

            _waiting = false;
            registration = _cancellation;
            _cancellation = default;
            _waitToken = default;
        }

        registration.Unregister();
        _core.SetException(exception);
    }

    private void Cancel(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_waiting || _waitToken != token)
            {
                return;
            }

            _waiting = false;
            _cancellation = default;
            _waitToken = default;
        }

        _core.SetException(new OperationCanceledException(token));
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
