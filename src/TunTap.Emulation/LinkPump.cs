using TunTap.Buffers;
using TunTap.Devices;

namespace TunTap.Emulation;

/// <summary>
/// One direction of an <see cref="EmulatedLink"/>: a reader task takes batches from the source
/// device and offers them to the <see cref="LinkModel"/> stamped with the current time; a dedicated
/// writer thread sleeps until the model's next departure, takes every due packet, writes them to
/// the destination device in one batch and returns their buffers. Both sides hold one lock only
/// around model calls. Steady state allocates nothing per packet.
/// </summary>
public sealed class LinkPump : IDisposable
{
    private readonly ITunDevice _source;
    private readonly ITunDevice _destination;
    private readonly TimeProvider _time;
    private readonly EmulatedLinkOptions _options;
    private readonly SharedCapture? _sourceCapture;
    private readonly SharedCapture? _destinationCapture;
    private readonly DepartureWaiter _waiter;
    private readonly Lock _gate = new();

    // The departure the writer sleeps towards; long.MinValue while it is awake (no wake needed). Under _gate.
    private long _sleepUntil = long.MinValue;

    internal LinkPump(string name, ITunDevice source, ITunDevice destination, LinkModel model, EmulatedLinkOptions options, SharedCapture? sourceCapture, SharedCapture? destinationCapture)
    {
        Name = name;
        _source = source;
        _destination = destination;
        Model = model;
        _options = options;
        _time = options.TimeProvider;
        _sourceCapture = sourceCapture;
        _destinationCapture = destinationCapture;
        _waiter = new DepartureWaiter(_time, options.PreciseSleepWindow);
        Counters = new LinkPumpCounters(_time.TimestampFrequency);
    }

    /// <summary>The direction's name, e.g. <c>a-&gt;b</c>.</summary>
    public string Name { get; }

    /// <summary>The model this direction runs (its <see cref="LinkModel.Counters"/> show queue depth and drops by cause).</summary>
    public LinkModel Model { get; }

    /// <summary>Device-side counters: packets read and written, lateness of departures.</summary>
    public LinkPumpCounters Counters { get; }

    /// <summary>Reads the model's counters under the pump's lock, so the values are one consistent snapshot.</summary>
    public void ReadModelCounters(Action<LinkCounters> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        lock (_gate)
        {
            read(Model.Counters);
        }
    }

    /// <summary>
    /// Changes the model while the link runs: packets arriving from now on go through a new stage
    /// chain built from <paramref name="options"/>; packets already inside finish on the old one, so
    /// none is lost. Traces in the new model start now. Any thread may call this.
    /// </summary>
    /// <exception cref="TunTapException">An option is out of range (nothing changed).</exception>
    public void Reconfigure(LinkModelOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        lock (_gate)
        {
            Model.ReplaceStages(LinkModelBuilder.BuildStages(options, _time.TimestampFrequency, _time.GetTimestamp(), seed, Model.CorruptionFixup));

            // The writer may sleep towards a departure of the old chain; let it look again.
            _sleepUntil = long.MinValue;
        }

        _waiter.Wake();
    }

    /// <summary>Runs the reader and the writer until <paramref name="cancellationToken"/> fires or either fails.</summary>
    internal Task[] Start(CancellationToken cancellationToken)
    {
        var writer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                RunWriter(cancellationToken);
                writer.SetResult();
            }
#pragma warning disable CA1031 // Handed to the awaiting task.
            catch (Exception e)
#pragma warning restore CA1031
            {
                writer.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = $"tuntap-emulate {Name}",
        };
        thread.Start();
        return [RunReaderAsync(cancellationToken), writer.Task];
    }

    /// <inheritdoc/>
    public void Dispose() => _waiter.Dispose();

    private async Task RunReaderAsync(CancellationToken cancellationToken)
    {
        using var batch = new PacketBatch(_options.BatchSize, _options.MaxPacketSize);
        while (true)
        {
            try
            {
                await _source.ReadBatchAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            Offer(batch);
        }
    }

    /// <summary>Stamps a read batch with the current time, offers it to the model, wakes the writer if its sleep is now too long.</summary>
    internal void Offer(PacketBatch batch)
    {
        var count = batch.Count;
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            bytes += batch.GetLength(i);
            _sourceCapture?.Write(batch[i]);
        }

        var wake = false;
        lock (_gate)
        {
            // Read the clock under the lock: the model's time then never goes backwards between threads.
            var now = _time.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                Model.Enqueue(batch[i], now);
            }

            var next = Model.NextDeparture ?? long.MaxValue;
            if (next < _sleepUntil)
            {
                _sleepUntil = long.MinValue;
                wake = true;
            }
        }

        Counters.AddRead(count, bytes);
        if (wake)
        {
            _waiter.Wake();
        }
    }

    private void RunWriter(CancellationToken cancellationToken)
    {
        using var batch = new PacketBatch(_options.BatchSize, _options.MaxPacketSize);
        using var registration = cancellationToken.Register(static state => ((DepartureWaiter)state!).Wake(), _waiter);
        while (!cancellationToken.IsCancellationRequested)
        {
            var deadline = TakeDue(batch);
            if (batch.Count > 0)
            {
                try
                {
                    Write(batch, cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            _waiter.WaitUntil(deadline);
        }
    }

    /// <summary>Moves every packet due now (up to a batch) into <paramref name="batch"/>; when none is due, returns when to look again.</summary>
    private long TakeDue(PacketBatch batch)
    {
        batch.Clear();
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            var rejected = 0;
            while (batch.Count < batch.Capacity && Model.TryDequeue(now, out var packet))
            {
                Counters.AddLateness(now - packet.DepartureTicks);
                if (!batch.TryAdd(packet.Span))
                {
                    rejected++;
                }

                Model.Release(packet);
            }

            if (rejected > 0)
            {
                Counters.AddWritten(0, rejected, 0);
            }

            if (batch.Count > 0)
            {
                _sleepUntil = long.MinValue;
                return now;
            }

            var deadline = Model.NextDeparture ?? long.MaxValue;
            _sleepUntil = deadline;
            _waiter.Reset();
            return deadline;
        }
    }

    private void Write(PacketBatch batch, CancellationToken cancellationToken)
    {
        var count = batch.Count;
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            bytes += batch.GetLength(i);
            _destinationCapture?.Write(batch[i]);
        }

        var pending = _destination.WriteBatchAsync(batch, cancellationToken);

        // This thread exists to wait: block on the rare write that cannot finish at once.
        var accepted = pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
        Counters.AddWritten(accepted, count - accepted, accepted == count ? bytes : bytes * accepted / Math.Max(1, count));
    }
}
