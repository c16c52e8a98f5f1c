using System.Net;
using System.Security.Cryptography;
using System.Text;
using TunTap.Buffers;
using TunTap.Devices;
using TunTap.Services;
using TunTap.Switching.Dhcp;
using TunTap.Wire;

namespace TunTap.Switching;

/// <summary>
/// A virtual port that is the segment's gateway address: it answers ARP requests and IPv6
/// neighbor solicitations for the gateway IPs, and ICMP/ICMPv6 echo (and UDP echo, port 7) sent to
/// them, with a <see cref="PacketResponder"/>, and DHCP when <see cref="Dhcp"/> is set. Frames the
/// switch sends to it go through the DHCP server and the responder; their answers come back as
/// frames received from the port. Nothing else is answered or routed. Nothing is allocated per
/// frame; when answers pile up faster than the switch takes them, the excess is dropped and counted.
/// </summary>
public sealed class GatewayPort : ISwitchPort, IPortCounterSource
{
    private readonly PacketResponder _responder;
    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _ready = new(0);
    private int _head;
    private int _count;
    private long _queueFull;

    /// <summary>Answers for <paramref name="gateways"/> (the address is the gateway; the prefix only names its subnet) from <paramref name="mac"/>.</summary>
    /// <param name="gateways">The gateway addresses, IPv4 and/or IPv6.</param>
    /// <param name="mac">The gateway's MAC address (unicast).</param>
    /// <param name="maxFrameSize">The longest answer (echo replies are as long as the request).</param>
    /// <param name="queueLength">Answers waiting for the switch at most.</param>
    /// <exception cref="ArgumentException">No gateway address, or a multicast MAC.</exception>
    public GatewayPort(IReadOnlyList<InterfaceAddress> gateways, MacAddress mac, int maxFrameSize = 1518, int queueLength = 64)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueLength, 1);
        if (gateways.Count == 0)
        {
            throw new ArgumentException("a gateway port needs at least one address", nameof(gateways));
        }

        if (mac.IsMulticast || mac.Value == 0)
        {
            throw new ArgumentException($"{mac} cannot be a station's address", nameof(mac));
        }

        // The responder answers for every host of a prefix except "the kernel's" address: a /31
        // (/127) whose other address is the gateway leaves exactly the gateway.
        var prefixes = new List<InterfaceAddress>();
        foreach (var gateway in gateways)
        {
            var bytes = gateway.Address.GetAddressBytes();
            bytes[^1] ^= 1;
            prefixes.Add(new InterfaceAddress(new IPAddress(bytes), gateway.IsIPv4 ? 31 : 127));
        }

        Gateways = [.. gateways];
        Mac = mac;
        _responder = new PacketResponder(DeviceMode.Tap, prefixes, mac.ToPhysicalAddress());
        _slots = new byte[queueLength][];
        for (var i = 0; i < queueLength; i++)
        {
            _slots[i] = new byte[maxFrameSize + LearningSwitch.MaxEgressGrowth];
        }

        _lengths = new int[queueLength];
        Name = $"gateway:{string.Join(',', Gateways)}";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The gateway addresses.</summary>
    public IReadOnlyList<InterfaceAddress> Gateways { get; }

    /// <summary>The gateway's MAC address.</summary>
    public MacAddress Mac { get; }

    /// <summary>What the responder did.</summary>
    public ResponderCounters Counters => _responder.Counters;

    /// <summary>A DHCP server answering on the gateway's address (it sees every frame first), or null.</summary>
    public DhcpServer? Dhcp { get; init; }

    /// <inheritdoc/>
    public long PeerGeneration => 0;

    /// <summary>A stable, locally administered unicast MAC (02:...) for the gateway of the switch <paramref name="switchName"/>.</summary>
    public static MacAddress MacFor(string switchName)
    {
        ArgumentNullException.ThrowIfNull(switchName);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("tuntap-switch-gateway:" + switchName), hash);
        hash[0] = 0x02; // locally administered, unicast
        return MacAddress.Read(hash[..MacAddress.Length]);
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReceiveBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Clear();
        while (batch.Count == 0)
        {
            await _ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                while (_count > 0 && batch.Count < batch.Capacity)
                {
                    batch.TryAdd(_slots[_head].AsSpan(0, _lengths[_head]));
                    _head = (_head + 1) % _slots.Length;
                    _count--;
                }
            }
        }

        return batch.Count;
    }

    /// <inheritdoc/>
    public ValueTask<int> SendBatchAsync(PacketBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var answered = false;
        lock (_gate)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (_count == _slots.Length)
                {
                    Interlocked.Increment(ref _queueFull);
                    continue;
                }

                var slot = (_head + _count) % _slots.Length;
                var length = Dhcp?.Process(batch[i], _slots[slot]) ?? 0;
                if (length == 0)
                {
                    length = _responder.Process(batch[i], _slots[slot]);
                }

                if (length > 0)
                {
                    _lengths[slot] = length;
                    _count++;
                    answered = true;
                }
            }
        }

        if (answered)
        {
            _ready.Release();
        }

        // Every frame was taken: those not answered were simply not for the gateway.
        return ValueTask.FromResult(batch.Count);
    }

    /// <inheritdoc/>
    public void ReadCounters(ICollection<(string Label, long Value)> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.Add(("gateway-replies", Counters.Replied));
        rows.Add(("gateway-dropped", Counters.Dropped + Interlocked.Read(ref _queueFull)));
        if (Dhcp is { Counters: var dhcp })
        {
            rows.Add(("dhcp-offers", dhcp.Offers));
            rows.Add(("dhcp-acks", dhcp.Acks));
            rows.Add(("dhcp-naks", dhcp.Naks));
            rows.Add(("dhcp-dropped", dhcp.Dropped));
            DropReasonNames.AddRows<DhcpDropReason>(rows, "dhcp-dropped", dhcp.GetDropped);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The signal is left to the garbage collector: disposing a <see cref="SemaphoreSlim"/> while a
    /// cancelled receive is still unwinding leaves that receive waiting for ever.
    /// </remarks>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
