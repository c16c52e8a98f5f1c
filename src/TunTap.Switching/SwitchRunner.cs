using TunTap.Buffers;
using TunTap.Capture;

namespace TunTap.Switching;

/// <summary>
/// Runs a <see cref="LearningSwitch"/> over real ports: each port has a receive loop that feeds
/// its frames through the switch into the bounded egress queues of the chosen ports, and a send
/// loop that drains its own queue in batches. Ports can be added and removed while it runs.
/// Frames are copied once into each egress queue (tags pushed or popped on the way); nothing is
/// allocated per frame. Disposing stops every loop and disposes every port.
/// </summary>
public sealed class SwitchRunner : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly SwitchPortRunner?[] _runners;
    private readonly SwitchRunnerOptions _options;
    private readonly PcapWriter? _capture;
    private readonly TimeProvider _time;
    private readonly ITimer? _blockTimer;
    private readonly List<MirrorSession> _mirrors = [];
    private readonly byte[] _captureScratch;
    private MirrorSession? _captureFilter;
    private bool _disposed;

    /// <summary>
    /// Creates a runner for <paramref name="fabric"/>; <paramref name="capture"/> (Ethernet link type)
    /// gets every received frame, or with <see cref="SetCapturePorts"/> the frames received on or
    /// sent to the chosen ports (once each).
    /// </summary>
    public SwitchRunner(LearningSwitch fabric, SwitchRunnerOptions? options = null, PcapWriter? capture = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(fabric);
        Switch = fabric;
        _options = options ?? new SwitchRunnerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.EgressQueueLength, 1);
        _capture = capture;
        _time = time ?? TimeProvider.System;
        _runners = new SwitchPortRunner?[fabric.Options.MaxPorts];
        _captureScratch = capture is null ? [] : new byte[fabric.Options.MaxFrameSize + 1 + LearningSwitch.MaxEgressGrowth];

        // Blocked ports see no frames of their own: a timer lets them go even when nothing passes.
        if (fabric.Options.BlockTime > TimeSpan.Zero)
        {
            _blockTimer = _time.CreateTimer(static state => ((SwitchRunner)state!).ReleaseExpiredBlocks(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>The switching core (lock-free reads: counters; anything else through <see cref="ListPorts"/> and <see cref="ListMacs"/>).</summary>
    public LearningSwitch Switch { get; }

    /// <summary>Adds a port and starts moving its frames; returns its id. The runner owns the port from now on.</summary>
    public int AddPort(ISwitchPort port, SwitchPortConfig config)
    {
        ArgumentNullException.ThrowIfNull(port);
        SwitchPortRunner runner;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var id = Switch.AddPort(config);
            var slotSize = Switch.Options.MaxFrameSize + LearningSwitch.MaxEgressGrowth;
            runner = new SwitchPortRunner(id, port, new EgressQueue(_options.EgressQueueLength, slotSize), Switch.GetCounters(id));
            _runners[id] = runner;
        }

        runner.Receiving = Task.Run(() => ReceiveLoopAsync(runner));
        runner.Sending = Task.Run(() => SendLoopAsync(runner));
        return runner.Id;
    }

    /// <summary>Stops a port's loops, removes it from the switch (its addresses are forgotten) and disposes it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such port.</exception>
    public async ValueTask RemovePortAsync(int id)
    {
        SwitchPortRunner runner;
        lock (_gate)
        {
            if ((uint)id >= (uint)_runners.Length || _runners[id] is not { } found)
            {
                throw new ArgumentOutOfRangeException(nameof(id), id, "no such port");
            }

            runner = found;
            _runners[id] = null;
            Switch.RemovePort(id);

            // The id may be reused by a new port, which must not inherit the mirroring.
            _mirrors.RemoveAll(m => m.Destination == id);
            foreach (var mirror in _mirrors)
            {
                mirror.Sources.Remove(id);
            }

            _captureFilter?.Sources.Remove(id);
        }

        await StopAsync(runner).ConfigureAwait(false);
    }

    /// <summary>The ports with their counters and state (allocates; for display and control).</summary>
    public IReadOnlyList<SwitchPortInfo> ListPorts()
    {
        var list = new List<SwitchPortInfo>();
        lock (_gate)
        {
            foreach (var runner in _runners)
            {
                if (runner is not null)
                {
                    var config = Switch.GetPortConfig(runner.Id);
                    list.Add(new SwitchPortInfo(runner.Id, config.Name, config.Vlan, Switch.GetCounters(runner.Id), Switch.GetBlockReason(runner.Id), runner.Failure, runner.Port));
                }
            }
        }

        return list;
    }

    /// <summary>The learned addresses (allocates).</summary>
    public IReadOnlyList<MacTableEntry> ListMacs()
    {
        var list = new List<MacTableEntry>();
        lock (_gate)
        {
            Switch.MacTable.CopyEntries(list);
        }

        return list;
    }

    /// <summary>
    /// Mirrors <paramref name="sources"/> to <paramref name="destination"/> (see
    /// <see cref="MirrorSession"/>); the destination then only listens. Ports are ids of ports added.
    /// </summary>
    /// <exception cref="ArgumentException">A port does not exist, the destination is a source, or it already is a mirror destination.</exception>
    public MirrorSession AddMirror(IReadOnlyCollection<int> sources, int destination)
    {
        ArgumentNullException.ThrowIfNull(sources);
        lock (_gate)
        {
            foreach (var port in sources.Append(destination))
            {
                if (!Switch.HasPort(port))
                {
                    throw new ArgumentException($"no port {port}", nameof(sources));
                }
            }

            if (Switch.IsMirrorDestination(destination))
            {
                throw new ArgumentException($"port {destination} already is a mirror destination", nameof(destination));
            }

            var session = new MirrorSession(sources, destination, Switch.Options.MaxPorts);
            Switch.SetMirrorDestination(destination, true);
            _mirrors.Add(session);
            return session;
        }
    }

    /// <summary>Limits the capture to the frames received on or sent to <paramref name="ports"/> (once each); null: every received frame.</summary>
    public void SetCapturePorts(IReadOnlyCollection<int>? ports)
    {
        lock (_gate)
        {
            _captureFilter = ports is null ? null : new MirrorSession(ports, -1, Switch.Options.MaxPorts);
        }
    }

    /// <summary>Lets a port blocked by loop protection forward again.</summary>
    public void Unblock(int id)
    {
        lock (_gate)
        {
            Switch.Unblock(id);
        }
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> fires, then stops every port (returns normally).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Normal shutdown.
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        List<SwitchPortRunner> runners = [];
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _blockTimer?.Dispose();
            for (var i = 0; i < _runners.Length; i++)
            {
                if (_runners[i] is { } runner)
                {
                    runners.Add(runner);
                    _runners[i] = null;
                }
            }
        }

        foreach (var runner in runners)
        {
            await StopAsync(runner).ConfigureAwait(false);
        }

        lock (_gate)
        {
            _capture?.Flush();
        }
    }

    /// <summary>Copies the frame to the mirror destinations that want it (under the gate).</summary>
    private void Mirror(int ingress, ReadOnlySpan<byte> frame, ForwardingDecision decision)
    {
        foreach (var mirror in _mirrors)
        {
            if (mirror.Selects(ingress, decision.Ports, out var form) && _runners[mirror.Destination] is { } target)
            {
                var queued = form < 0 ? target.Queue.TryEnqueueCopy(frame) : target.Queue.TryEnqueue(Switch, form, frame, decision);
                if (!queued)
                {
                    target.Counters.CountDropped(SwitchDropReason.QueueFull);
                }
            }
        }
    }

    /// <summary>Writes the frame to the capture: every received frame, or once if it entered or left a chosen port (under the gate).</summary>
    private void Capture(int ingress, ReadOnlySpan<byte> frame, ForwardingDecision decision, DateTimeOffset now)
    {
        if (_captureFilter is null)
        {
            _capture!.Write(frame, now);
        }
        else if (_captureFilter.Selects(ingress, decision.Ports, out var form))
        {
            if (form < 0)
            {
                _capture!.Write(frame, now);
            }
            else if (Switch.WriteEgressFrame(form, frame, decision, _captureScratch) is var length and >= 0)
            {
                _capture!.Write(_captureScratch.AsSpan(0, length), now);
            }
        }
    }

    private void ReleaseExpiredBlocks()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                Switch.ReleaseExpiredBlocks();
            }
        }
    }

    private static async Task StopAsync(SwitchPortRunner runner)
    {
        await runner.Stop.CancelAsync().ConfigureAwait(false);

        // Disposing the port also ends receives that do not watch the token (accept on a socket).
        await runner.Port.DisposeAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(runner.Receiving, runner.Sending).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // Expected on the way down.
        }

        runner.Queue.Dispose();
        runner.Stop.Dispose();
    }

    private async Task ReceiveLoopAsync(SwitchPortRunner runner)
    {
        var token = runner.Stop.Token;

        // One byte more than the largest frame, so a longer one shows as oversized, not cut to fit.
        using var batch = new PacketBatch(_options.BatchSize, Switch.Options.MaxFrameSize + 1);
        var decision = Switch.CreateDecision();
        var generation = runner.Port.PeerGeneration;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var count = await runner.Port.ReceiveBatchAsync(batch, token).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_runners[runner.Id] != runner)
                    {
                        return;
                    }

                    var current = runner.Port.PeerGeneration;
                    if (current != generation)
                    {
                        generation = current;
                        Switch.FlushPort(runner.Id);
                    }

                    var now = _time.GetUtcNow();
                    for (var i = 0; i < count; i++)
                    {
                        var frame = batch[i];
                        Switch.Forward(runner.Id, frame, decision);
                        foreach (var egress in decision.Ports)
                        {
                            if (_runners[egress] is { } target && !target.Queue.TryEnqueue(Switch, egress, frame, decision))
                            {
                                target.Counters.CountDropped(SwitchDropReason.QueueFull);
                            }
                        }

                        if (_mirrors.Count > 0)
                        {
                            Mirror(runner.Id, frame, decision);
                        }

                        if (_capture is not null)
                        {
                            Capture(runner.Id, frame, decision, now);
                        }
                    }
                }
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Stopped: whatever the port threw on the way down (cancelled, disposed, closed) does not matter.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            runner.Failure = e.Message;
            _options.Log?.Invoke($"switch: port {runner.Port.Name} stopped receiving: {e.Message}");
        }
    }

    private async Task SendLoopAsync(SwitchPortRunner runner)
    {
        var token = runner.Stop.Token;
        using var batch = new PacketBatch(_options.BatchSize, Switch.Options.MaxFrameSize + LearningSwitch.MaxEgressGrowth);
        var counters = runner.Counters;
        try
        {
            while (!token.IsCancellationRequested)
            {
                await runner.Queue.WaitAsync(token).ConfigureAwait(false);
                while (runner.Queue.DequeueInto(batch, out var bytes) > 0)
                {
                    var sent = await runner.Port.SendBatchAsync(batch, token).ConfigureAwait(false);
                    if (sent == batch.Count)
                    {
                        counters.CountSent(sent, bytes);
                    }
                    else
                    {
                        long sentBytes = 0;
                        for (var i = 0; i < sent; i++)
                        {
                            sentBytes += batch.GetLength(i);
                        }

                        counters.CountSent(sent, sentBytes);
                        counters.CountDropped(SwitchDropReason.LinkDown, batch.Count - sent);
                    }
                }
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Stopped: whatever the port threw on the way down (cancelled, disposed, closed) does not matter.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            runner.Failure = e.Message;
            _options.Log?.Invoke($"switch: port {runner.Port.Name} stopped sending: {e.Message}");
        }
    }
}
