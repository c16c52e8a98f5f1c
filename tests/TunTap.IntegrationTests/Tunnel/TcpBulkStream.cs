using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TunTap.Netlink;

namespace TunTap.IntegrationTests.Tunnel;

/// <summary>
/// One TCP connection from a socket in one namespace to a listener in another, carrying a
/// repeating byte pattern that a thread of its own receives and checks. With a virtio-net-header
/// device the kernel hands such a stream to the tunnel as super packets. Sending and receiving
/// use spans on blocking sockets and preallocated buffers: neither end allocates per call.
/// </summary>
internal sealed class TcpBulkStream : IDisposable
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>How long the receiver's <c>poll()</c> waits before it looks at the stop flag again.</summary>
    private const int PollMicroseconds = 100_000;

    /// <summary>Pattern length: a prime, so a chunk boundary never lines up with it.</summary>
    private const int PatternLength = 251;

    private readonly Socket _sender;
    private readonly Socket _receiver;
    private readonly byte[] _pattern;
    private readonly Thread _thread;
    private long _sent;
    private long _received;
    private long _corrupt;
    private volatile bool _stopping;

    /// <summary>Listens on <paramref name="to"/> in <paramref name="receiverNetns"/>, connects from <paramref name="senderNetns"/> and starts receiving.</summary>
    public TcpBulkStream(string senderNetns, string receiverNetns, IPEndPoint to, TimeSpan connectTimeout)
    {
        _pattern = new byte[PatternLength + ChunkSize];
        for (var i = 0; i < _pattern.Length; i++)
        {
            _pattern[i] = (byte)(i % PatternLength);
        }

        using var listener = NetworkNamespace.Run(receiverNetns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        listener.Bind(to);
        listener.Listen(1);
        _sender = NetworkNamespace.Run(senderNetns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        try
        {
            _sender.NoDelay = true;
            _sender.Connect(to);
            if (!listener.Poll((int)connectTimeout.TotalMicroseconds, SelectMode.SelectRead))
            {
                throw new TimeoutException($"no connection to {to} within {connectTimeout}");
            }

            _receiver = listener.Accept();
        }
        catch
        {
            _sender.Dispose();
            throw;
        }

        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = $"tcp-bulk ->{to}" };
        _thread.Start();
    }

    /// <summary>Bytes written into the sending socket so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Bytes received, all of them checked against the pattern.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Receives that held a byte off the pattern.</summary>
    public long Corrupt => Interlocked.Read(ref _corrupt);

    /// <summary>A line for assertion messages.</summary>
    public string Describe() => $"sent {Sent} bytes, received {Received}, corrupt receives {Corrupt}";

    /// <summary>Writes <paramref name="bytes"/> more bytes of the pattern (blocking while TCP's window is full). Allocates nothing.</summary>
    public void Send(long bytes)
    {
        var left = bytes;
        while (left > 0)
        {
            var offset = (int)(Sent % PatternLength);
            var length = (int)Math.Min(left, ChunkSize);
            var sent = _sender.Send(_pattern.AsSpan(offset, length));
            Interlocked.Add(ref _sent, sent);
            left -= sent;
        }
    }

    /// <summary>Waits until everything sent has arrived or <paramref name="limit"/> passed; returns <see cref="Received"/>. Allocates nothing.</summary>
    public long WaitDelivered(TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (Received < Sent && Stopwatch.GetTimestamp() < deadline)
        {
            Thread.Sleep(2);
        }

        return Received;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stopping = true;
        _thread.Join(TimeSpan.FromSeconds(5));
        _sender.Dispose();
        _receiver.Dispose();
    }

    private void ReceiveLoop()
    {
        var buffer = new byte[ChunkSize];
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
                return;
            }

            if (length == 0)
            {
                return;
            }

            var offset = (int)(Received % PatternLength);
            if (!buffer.AsSpan(0, length).SequenceEqual(_pattern.AsSpan(offset, length)))
            {
                Interlocked.Increment(ref _corrupt);
            }

            Interlocked.Add(ref _received, length);
        }
    }
}
