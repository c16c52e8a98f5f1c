using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TunTap.Netlink;

namespace TunTap.IntegrationTests.Tunnel;

/// <summary>
/// Numbered UDP datagrams from a connected socket in one namespace to a connected socket in
/// another; a thread of its own receives them and checks every byte. Sending and receiving use
/// spans on connected sockets and preallocated buffers: neither end allocates per datagram, so a
/// test can measure what the code between them allocates.
/// </summary>
internal sealed class UdpFlow : IDisposable
{
    private const int SequenceSize = sizeof(long);

    /// <summary>How long the receiver's <c>poll()</c> waits before it looks at the stop flag again.</summary>
    private const int PollMicroseconds = 100_000;

    private readonly Socket _sender;
    private readonly Socket _receiver;
    private readonly byte[] _sendBuffer;
    private readonly bool[] _seen;
    private readonly Thread _thread;
    private long _sent;
    private long _received;
    private long _corrupt;
    private long _duplicates;
    private long _lostCredit;
    private volatile bool _stopping;

    /// <summary>Binds and connects both sockets and starts receiving.</summary>
    /// <param name="senderNetns">Namespace the sending socket lives in.</param>
    /// <param name="from">The sending socket's address (an overlay address in <paramref name="senderNetns"/>).</param>
    /// <param name="receiverNetns">Namespace the receiving socket lives in.</param>
    /// <param name="to">The receiving socket's address.</param>
    /// <param name="payloadSize">Bytes per datagram, the sequence number included.</param>
    /// <param name="capacity">The most datagrams this flow sends over its life.</param>
    public UdpFlow(string senderNetns, IPEndPoint from, string receiverNetns, IPEndPoint to, int payloadSize, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(payloadSize, SequenceSize);
        PayloadSize = payloadSize;
        _sendBuffer = new byte[payloadSize];
        _seen = new bool[capacity];
        _receiver = NetworkNamespace.Run(receiverNetns, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        _sender = NetworkNamespace.Run(senderNetns, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        try
        {
            _receiver.ReceiveBufferSize = 1 << 20;
            _receiver.Bind(to);
            _receiver.Connect(from);
            _sender.Bind(from);
            _sender.Connect(to);
        }
        catch
        {
            _receiver.Dispose();
            _sender.Dispose();
            throw;
        }

        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = $"udp-flow {from}->{to}" };
        _thread.Start();
    }

    /// <summary>Bytes per datagram.</summary>
    public int PayloadSize { get; }

    /// <summary>Datagrams sent so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Datagrams received with the right length and content, each sequence number once.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams received with a wrong length, an unknown sequence number or wrong bytes.</summary>
    public long Corrupt => Interlocked.Read(ref _corrupt);

    /// <summary>Datagrams whose sequence number had arrived before.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>A line for assertion messages.</summary>
    public string Describe() => $"sent {Sent}, received {Received}, corrupt {Corrupt}, duplicates {Duplicates}";

    /// <summary>
    /// Sends <paramref name="count"/> more datagrams, keeping at most <paramref name="window"/> on
    /// their way (so nothing overruns a queue and the loss stays near zero). When nothing arrives for
    /// <paramref name="stall"/>, what is on its way counts as lost and sending goes on. Stops early
    /// when <paramref name="cancellationToken"/> fires. Allocates nothing.
    /// </summary>
    public void Send(int count, int window, TimeSpan stall, CancellationToken cancellationToken = default)
    {
        var stallTicks = (long)(stall.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var lastProgress = Stopwatch.GetTimestamp();
            var lastReceived = Received;
            while (Sent - Received - Interlocked.Read(ref _lostCredit) >= window)
            {
                var received = Received;
                var now = Stopwatch.GetTimestamp();
                if (received != lastReceived)
                {
                    lastReceived = received;
                    lastProgress = now;
                }
                else if (now - lastProgress > stallTicks)
                {
                    Interlocked.Exchange(ref _lostCredit, Sent - received);
                    break;
                }

                Thread.Sleep(1);
            }

            var sequence = Sent;
            Fill(_sendBuffer, sequence);
            _ = _sender.Send(_sendBuffer.AsSpan());
            Interlocked.Increment(ref _sent);
        }
    }

    /// <summary>
    /// Waits until everything sent has arrived, or nothing more arrived for <paramref name="quiet"/>,
    /// or <paramref name="limit"/> passed; returns <see cref="Received"/>. Allocates nothing.
    /// </summary>
    public long WaitDelivered(TimeSpan quiet, TimeSpan limit)
    {
        var start = Stopwatch.GetTimestamp();
        var quietTicks = (long)(quiet.TotalSeconds * Stopwatch.Frequency);
        var limitTicks = (long)(limit.TotalSeconds * Stopwatch.Frequency);
        var last = Received;
        var lastProgress = start;
        while (true)
        {
            var received = Received;
            var now = Stopwatch.GetTimestamp();
            if (received >= Sent || now - start > limitTicks)
            {
                return received;
            }

            if (received != last)
            {
                last = received;
                lastProgress = now;
            }
            else if (now - lastProgress > quietTicks)
            {
                return received;
            }

            Thread.Sleep(2);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(5));
        _sender.Dispose();
        _receiver.Dispose();
    }

    /// <summary>The sequence number, then bytes that depend on it and their position.</summary>
    private static void Fill(Span<byte> payload, long sequence)
    {
        BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
        for (var i = SequenceSize; i < payload.Length; i++)
        {
            payload[i] = ContentByte(sequence, i);
        }
    }

    private static byte ContentByte(long sequence, int position) => (byte)((sequence * 31) + position);

    private void ReceiveLoop()
    {
        var buffer = new byte[PayloadSize + 64];
        while (!_stopping)
        {
            int length;
            try
            {
                if (!_receiver.Poll(PollMicroseconds, SelectMode.SelectRead))
                {
                    continue;
                }

                length = _receiver.Receive(buffer.AsSpan());
            }
            catch (SocketException)
            {
                // An ICMP error queued on the connected socket (the other end not bound yet): not data.
                continue;
            }

            Check(buffer.AsSpan(0, length));
        }
    }

    private void Check(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length != PayloadSize)
        {
            Interlocked.Increment(ref _corrupt);
            return;
        }

        var sequence = BinaryPrimitives.ReadInt64BigEndian(datagram);
        if (sequence < 0 || sequence >= _seen.Length)
        {
            Interlocked.Increment(ref _corrupt);
            return;
        }

        for (var i = SequenceSize; i < datagram.Length; i++)
        {
            if (datagram[i] != ContentByte(sequence, i))
            {
                Interlocked.Increment(ref _corrupt);
                return;
            }
        }

        if (_seen[sequence])
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        _seen[sequence] = true;
        Interlocked.Increment(ref _received);
    }
}
