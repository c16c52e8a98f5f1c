using System.Buffers.Binary;
using System.Globalization;
using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>
/// The switching core, free of I/O: ports are ids with a VLAN configuration; <see cref="Forward"/>
/// classifies a received frame into a VLAN, learns its source, and decides the egress ports;
/// <see cref="WriteEgressFrame"/> produces the frame as it leaves one of them (802.1Q tag pushed,
/// popped or rewritten). Learning is per VLAN with aging and hard limits, loop protection blocks a
/// port when MAC addresses keep moving onto it or it floods broadcast storms. Forwarding allocates
/// nothing. Not thread-safe: one caller at a time (the runner serializes).
/// </summary>
public sealed class LearningSwitch
{
    /// <summary>The most a frame can grow on egress (an 802.1Q tag pushed).</summary>
    public const int MaxEgressGrowth = 4;

    private const int VidMask = 0x0FFF;
    private readonly SwitchPortState?[] _ports;
    private readonly TimeProvider _time;
    private readonly long _sweepTicks;
    private readonly long _flapWindowTicks;
    private readonly long _stormWindowTicks;
    private readonly long _blockTicks;
    private long _lastSweep;

    /// <summary>Creates a switch with no ports.</summary>
    public LearningSwitch(SwitchOptions? options = null, TimeProvider? time = null)
    {
        Options = options ?? new SwitchOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxPorts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.MaxFrameSize, EthernetFrame.UntaggedHeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(Options.FlapThreshold);
        ArgumentOutOfRangeException.ThrowIfNegative(Options.StormThreshold);
        _time = time ?? TimeProvider.System;
        _ports = new SwitchPortState?[Options.MaxPorts];
        MacTable = new MacTable(Options.MacTableCapacity, Options.MaxPorts, Options.MacAgingTime, _time);
        var frequency = _time.TimestampFrequency;
        _sweepTicks = (long)(Math.Min(Options.MacAgingTime.TotalSeconds, 1.0) * frequency);
        _flapWindowTicks = (long)(Options.FlapWindow.TotalSeconds * frequency);
        _stormWindowTicks = frequency;
        ArgumentOutOfRangeException.ThrowIfLessThan(Options.BlockTime, TimeSpan.Zero);
        _blockTicks = (long)(Options.BlockTime.TotalSeconds * frequency);
        _lastSweep = _time.GetTimestamp();
    }

    /// <summary>The limits and timers.</summary>
    public SwitchOptions Options { get; }

    /// <summary>The learned addresses.</summary>
    public MacTable MacTable { get; }

    /// <summary>The ids of the ports, ascending (allocates; for display and control).</summary>
    public IReadOnlyList<int> PortIds
    {
        get
        {
            var ids = new List<int>();
            for (var i = 0; i < _ports.Length; i++)
            {
                if (_ports[i] is not null)
                {
                    ids.Add(i);
                }
            }

            return ids;
        }
    }

    /// <summary>Adds a port with the lowest free id and returns the id.</summary>
    /// <exception cref="InvalidOperationException">All <see cref="SwitchOptions.MaxPorts"/> ids are taken.</exception>
    public int AddPort(SwitchPortConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(config.Vlan);
        var limit = config.MacLimit ?? Options.DefaultPortMacLimit;
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        for (var i = 0; i < _ports.Length; i++)
        {
            if (_ports[i] is null)
            {
                _ports[i] = new SwitchPortState(config, limit);
                return i;
            }
        }

        throw new InvalidOperationException($"the switch has all {_ports.Length} ports in use");
    }

    /// <summary>Removes a port and forgets the addresses learned on it.</summary>
    public void RemovePort(int port)
    {
        _ = State(port);
        MacTable.FlushPort(port);
        _ports[port] = null;
    }

    /// <summary>True when <paramref name="port"/> is a port of this switch.</summary>
    public bool HasPort(int port) => (uint)port < (uint)_ports.Length && _ports[port] is not null;

    /// <summary>The port's configuration.</summary>
    public SwitchPortConfig GetPortConfig(int port) => State(port).Config;

    /// <summary>Changes the port's VLANs; addresses learned on it are forgotten.</summary>
    public void SetPortVlan(int port, PortVlan vlan)
    {
        ArgumentNullException.ThrowIfNull(vlan);
        var state = State(port);
        state.Config = state.Config with { Vlan = vlan };
        MacTable.FlushPort(port);
    }

    /// <summary>The port's counters.</summary>
    public SwitchPortCounters GetCounters(int port) => State(port).Counters;

    /// <summary>True while loop protection (or <see cref="Block"/>) keeps the port blocked.</summary>
    public bool IsBlocked(int port) => State(port).BlockReason is not null;

    /// <summary>Why the port is blocked, or null.</summary>
    public string? GetBlockReason(int port) => State(port).BlockReason;

    /// <summary>Blocks the port: nothing is received from or sent to it until <see cref="Unblock"/>.</summary>
    public void Block(int port, string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var state = State(port);
        if (state.BlockReason is not null)
        {
            return;
        }

        state.BlockReason = reason;
        state.BlockedUntil = long.MaxValue;
        MacTable.FlushPort(port);
        Options.Log?.Invoke($"switch: port {state.Config.Name} blocked: {reason}");
    }

    /// <summary>
    /// Unblocks the ports loop protection blocked more than <see cref="SwitchOptions.BlockTime"/>
    /// ago, with a log line each; returns how many. <see cref="Forward"/> checks this about once a
    /// second as frames pass; call it from a timer when no frames may pass.
    /// </summary>
    public int ReleaseExpiredBlocks() => ReleaseExpiredBlocks(_time.GetTimestamp());

    /// <summary>Lets a blocked port forward again (its loop-protection counts start over).</summary>
    public void Unblock(int port)
    {
        var state = State(port);
        state.BlockReason = null;
        state.BlockedUntil = long.MaxValue;
        state.FlapCount = 0;
        state.StormCount = 0;
    }

    /// <summary>True when the port is a mirror destination (see <see cref="SetMirrorDestination"/>).</summary>
    public bool IsMirrorDestination(int port) => State(port).IsMirrorDestination;

    /// <summary>
    /// Makes the port a mirror destination, which only listens: nothing is forwarded to it and what
    /// it sends is dropped (<see cref="SwitchDropReason.MirrorDestination"/>); or a normal port again.
    /// The copies themselves are the runner's (<see cref="MirrorSession"/>).
    /// </summary>
    public void SetMirrorDestination(int port, bool value)
    {
        var state = State(port);
        state.IsMirrorDestination = value;
        MacTable.FlushPort(port);
    }

    /// <summary>Forgets the addresses learned on the port (its peer reconnected).</summary>
    public void FlushPort(int port)
    {
        _ = State(port);
        MacTable.FlushPort(port);
    }

    /// <summary>A decision object sized for this switch, to reuse for every <see cref="Forward"/>.</summary>
    public ForwardingDecision CreateDecision() => new(_ports.Length);

    /// <summary>
    /// Decides what happens to <paramref name="frame"/>, received on <paramref name="ingressPort"/>:
    /// counts it, learns its source, and fills <paramref name="decision"/> with the egress ports.
    /// Malformed frames are counted drops, never exceptions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ingressPort"/> is not a port.</exception>
    public ForwardingAction Forward(int ingressPort, ReadOnlySpan<byte> frame, ForwardingDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var ingress = State(ingressPort);
        decision.Reset();
        var counters = ingress.Counters;
        counters.CountReceived(frame.Length);
        var now = _time.GetTimestamp();
        if (now - _lastSweep >= _sweepTicks)
        {
            _lastSweep = now;
            MacTable.Sweep(now);
            ReleaseExpiredBlocks(now);
        }

        if (ingress.BlockReason is not null)
        {
            return Drop(decision, counters, SwitchDropReason.Blocked);
        }

        if (ingress.IsMirrorDestination)
        {
            return Drop(decision, counters, SwitchDropReason.MirrorDestination);
        }

        if (!EthernetFrame.TryCreate(frame, out var ethernet))
        {
            return Drop(decision, counters, SwitchDropReason.Runt);
        }

        if (frame.Length > Options.MaxFrameSize)
        {
            return Drop(decision, counters, SwitchDropReason.Oversize);
        }

        var source = ethernet.Source;
        if (source.IsMulticast || source.Value == 0)
        {
            return Drop(decision, counters, SwitchDropReason.InvalidSource);
        }

        var vlanConfig = ingress.Config.Vlan;
        ushort vlan;
        if (ethernet.HasVlanTag)
        {
            decision.IngressTagged = true;
            decision.Priority = ethernet.Priority;
            var vid = ethernet.VlanId;
            if (vid == 0)
            {
                // A priority tag: the frame belongs to the port's untagged VLAN.
                if (vlanConfig.UntaggedVlan is not { } untagged)
                {
                    return Drop(decision, counters, SwitchDropReason.VlanNotAllowed);
                }

                vlan = untagged;
            }
            else if (vlanConfig.Mode == VlanMode.Trunk && vlanConfig.IsMember(vid))
            {
                vlan = vid;
            }
            else
            {
                return Drop(decision, counters, SwitchDropReason.VlanNotAllowed);
            }
        }
        else if (vlanConfig.UntaggedVlan is { } untagged)
        {
            vlan = untagged;
        }
        else
        {
            return Drop(decision, counters, SwitchDropReason.VlanNotAllowed);
        }

        decision.Vlan = vlan;
        var destination = ethernet.Destination;
        if ((destination.Value & ~0xFUL) == 0x0180_C200_0000UL)
        {
            return Drop(decision, counters, SwitchDropReason.Reserved);
        }

        Learn(ingressPort, ingress, source, vlan, now);
        if (ingress.BlockReason is not null)
        {
            return Drop(decision, counters, SwitchDropReason.Blocked);
        }

        if (!destination.IsMulticast && MacTable.TryLookup(destination, vlan, now, out var egress))
        {
            if (egress == ingressPort)
            {
                counters.CountFiltered();
                decision.Action = ForwardingAction.Filtered;
                return ForwardingAction.Filtered;
            }

            var target = _ports[egress];
            if (target is not null && target.BlockReason is null && !target.IsMirrorDestination && target.Config.Vlan.IsMember(vlan))
            {
                decision.Ports.Add(egress);
                decision.Action = ForwardingAction.Unicast;
                return ForwardingAction.Unicast;
            }
        }

        if (destination.IsMulticast && Options.StormThreshold > 0 && CountStorm(ingressPort, ingress, now))
        {
            return Drop(decision, counters, SwitchDropReason.Blocked);
        }

        for (var i = 0; i < _ports.Length; i++)
        {
            var port = _ports[i];
            if (i != ingressPort && port is not null && port.BlockReason is null && !port.IsMirrorDestination && port.Config.Vlan.IsMember(vlan))
            {
                decision.Ports.Add(i);
            }
        }

        counters.CountFlooded();
        decision.Action = ForwardingAction.Flooded;
        return ForwardingAction.Flooded;
    }

    /// <summary>
    /// Writes <paramref name="frame"/> as it leaves <paramref name="egressPort"/> after
    /// <see cref="Forward"/> decided <paramref name="decision"/>: untagged in the port's untagged
    /// VLAN, otherwise tagged with the decision's VLAN and priority. Returns the length written,
    /// or -1 when <paramref name="destination"/> is too small (it needs at most
    /// <see cref="MaxEgressGrowth"/> more bytes than the frame).
    /// </summary>
    public int WriteEgressFrame(int egressPort, ReadOnlySpan<byte> frame, ForwardingDecision decision, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(decision);
        var tagged = State(egressPort).Config.Vlan.IsTagged(decision.Vlan);
        const int Addresses = 2 * MacAddress.Length;
        var rest = frame[(decision.IngressTagged ? Addresses + 4 : Addresses)..];
        var length = Addresses + (tagged ? 4 : 0) + rest.Length;
        if (destination.Length < length)
        {
            return -1;
        }

        frame[..Addresses].CopyTo(destination);
        var offset = Addresses;
        if (tagged)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], EtherType.Vlan);
            BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], (ushort)((decision.Priority << 13) | (decision.Vlan & VidMask)));
            offset += 4;
        }

        rest.CopyTo(destination[offset..]);
        return length;
    }

    private static ForwardingAction Drop(ForwardingDecision decision, SwitchPortCounters counters, SwitchDropReason reason)
    {
        counters.CountDropped(reason);
        decision.Ports.Clear();
        decision.Action = ForwardingAction.Dropped;
        decision.DropReason = reason;
        return ForwardingAction.Dropped;
    }

    private void Learn(int portId, SwitchPortState port, MacAddress source, ushort vlan, long now)
    {
        switch (MacTable.Learn(source, vlan, portId, port.MacLimit, now, out var previous))
        {
            case LearnOutcome.Moved:
                port.Counters.CountMacMove();
                if (Options.FlapThreshold > 0)
                {
                    if (now - port.FlapWindowStart > _flapWindowTicks)
                    {
                        port.FlapWindowStart = now;
                        port.FlapCount = 0;
                    }

                    port.FlapCount++;
                    if (port.FlapCount >= Options.FlapThreshold)
                    {
                        var from = _ports[previous]?.Config.Name ?? previous.ToString(CultureInfo.InvariantCulture);
                        BlockForLoop(portId, port, string.Create(CultureInfo.InvariantCulture, $"MAC flapping ({port.FlapCount} moves within {Options.FlapWindow.TotalSeconds:0.###} s, last {source} in VLAN {vlan} from {from}); a loop?"), now);
                    }
                }

                break;
            case LearnOutcome.PortLimitReached:
            case LearnOutcome.TableFull:
                port.Counters.CountMacNotLearned();
                break;
        }
    }

    private bool CountStorm(int portId, SwitchPortState port, long now)
    {
        if (now - port.StormWindowStart > _stormWindowTicks)
        {
            port.StormWindowStart = now;
            port.StormCount = 0;
        }

        port.StormCount++;
        if (port.StormCount > Options.StormThreshold)
        {
            BlockForLoop(portId, port, string.Create(CultureInfo.InvariantCulture, $"broadcast/multicast storm (more than {Options.StormThreshold} frames within 1 s); a loop?"), now);
            return true;
        }

        return false;
    }

    private void BlockForLoop(int portId, SwitchPortState port, string reason, long now)
    {
        if (port.BlockReason is not null)
        {
            return;
        }

        port.BlockReason = reason;
        port.LoopBlocks++;
        port.BlockedUntil = _blockTicks > 0 ? now + _blockTicks : long.MaxValue;
        MacTable.FlushPort(portId);
        var again = port.LoopBlocks > 1 ? string.Create(CultureInfo.InvariantCulture, $" (blocked {port.LoopBlocks} times so far)") : "";
        var until = _blockTicks > 0
            ? string.Create(CultureInfo.InvariantCulture, $"; unblocked in {Options.BlockTime.TotalSeconds:0.###} s{again}")
            : $"; stays blocked until unblocked by hand{again}";
        Options.Log?.Invoke($"switch: port {port.Config.Name} blocked: {reason}{until}");
    }

    private int ReleaseExpiredBlocks(long now)
    {
        var released = 0;
        for (var i = 0; i < _ports.Length; i++)
        {
            if (_ports[i] is { BlockReason: not null } port && port.BlockedUntil <= now)
            {
                Unblock(i);
                released++;
                Options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"switch: port {port.Config.Name} unblocked after {Options.BlockTime.TotalSeconds:0.###} s; blocked again if the loop persists"));
            }
        }

        return released;
    }

    private SwitchPortState State(int port)
    {
        if ((uint)port >= (uint)_ports.Length || _ports[port] is not { } state)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "no such port");
        }

        return state;
    }
}
