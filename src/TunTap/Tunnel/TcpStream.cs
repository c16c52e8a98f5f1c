using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TunTap.Interop;

namespace TunTap.Tunnel;

/// <summary>
/// A TCP connection driven from threads that own it: every send and receive is one non-blocking
/// system call (<see cref="TrySend"/>, <see cref="TryReceive"/>, for a loop that waits on more
/// than the socket), and the blocking forms wait in <c>poll()</c> on the calling thread in slices
/// (so cancellation is seen within one slice). The socket is never handed to
/// .NET's asynchronous socket engine, whose epoll thread would otherwise be woken for every
/// segment and hand each completion over to a pool thread: on a tunnel that moves gigabits, those
/// wakeups cost more than the copies.
/// </summary>
internal sealed class TcpStream
{
    /// <summary>Longest single <c>poll()</c> before the cancellation token is looked at again.</summary>
    private const int PollSliceMilliseconds = 100;

    /// <summary>MSG_NOSIGNAL: a send on a reset connection fails with EPIPE instead of raising SIGPIPE.</summary>
    private const int MsgNoSignal = 0x4000;

    private readonly Socket _socket;

    /// <summary>IPPROTO_TCP.</summary>
    private const int SolTcp = 6;

    /// <summary>TCP_CONGESTION: the connection's congestion control, by name.</summary>
    private const int TcpCongestion = 13;

    /// <summary>Takes a connected (or connecting, see <see cref="Connect"/>) socket.</summary>
    public TcpStream(Socket socket)
    {
        _socket = socket;
        socket.Blocking = false;
        socket.NoDelay = true;
    }

    /// <summary>
    /// Asks for congestion control <paramref name="name"/> on <paramref name="socket"/>; returns
    /// null when the kernel took it, otherwise why not (the socket keeps the default).
    /// </summary>
    public static string? TrySetCongestionControl(Socket socket, string name)
    {
        Span<byte> value = stackalloc byte[16];
        var length = System.Text.Encoding.ASCII.GetBytes(name, value);
        try
        {
            socket.SetRawSocketOption(SolTcp, TcpCongestion, value[..length]);
            return null;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == SocketError.AccessDenied
                ? $"congestion control '{name}' needs CAP_NET_ADMIN (not in net.ipv4.tcp_allowed_congestion_control): using the system default"
                : $"congestion control '{name}' is not available ({ex.Message}): using the system default";
        }
    }

    /// <summary>
    /// Connects <paramref name="socket"/> to <paramref name="remote"/> without the asynchronous
    /// engine; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>,
    /// <see cref="SocketException"/> when refused or unreachable.
    /// </summary>
    public static void Connect(Socket socket, EndPoint remote, TimeSpan timeout, CancellationToken cancellationToken)
    {
        socket.Blocking = false;
        try
        {
            socket.Connect(remote);
            return;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // Connecting in the background: wait for the outcome below.
        }

        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!socket.Poll(SliceMicroseconds(deadline), SelectMode.SelectWrite))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Environment.TickCount64 >= deadline)
            {
                throw new TimeoutException($"no answer within {timeout.TotalSeconds:0.###} s");
            }
        }

        var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        if (error != 0)
        {
            throw new SocketException(error);
        }
    }

    /// <summary>What <see cref="TrySend"/> and <see cref="TryReceive"/> return when the call would have to wait.</summary>
    public const int WouldBlock = -1;

    /// <summary>The socket, for a loop that waits on it together with another descriptor.</summary>
    public SafeHandle Handle => _socket.SafeHandle;

    /// <summary>Sends all of <paramref name="data"/>, waiting while the socket's buffer is full.</summary>
    public void Send(ReadOnlySpan<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var sent = TrySend(data);
            if (sent == WouldBlock)
            {
                cancellationToken.ThrowIfCancellationRequested();
                _ = DescriptorPoll.Wait(_socket.SafeHandle, Libc.POLLOUT, PollSliceMilliseconds);
                continue;
            }

            data = data[sent..];
        }
    }

    /// <summary>One non-blocking send: the bytes the kernel took (at least one), or <see cref="WouldBlock"/> when its buffer is full.</summary>
    public unsafe int TrySend(ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            return Transfer(start, data.Length, send: true);
        }
    }

    /// <summary>
    /// Receives what is there (at least one byte) into <paramref name="buffer"/>, waiting until
    /// <paramref name="deadline"/> (<see cref="Environment.TickCount64"/>) for something to
    /// arrive. Returns the count, 0 when the peer closed, -1 when the deadline passed.
    /// </summary>
    public int Receive(Span<byte> buffer, CancellationToken cancellationToken, long deadline = long.MaxValue)
    {
        while (true)
        {
            var received = TryReceive(buffer);
            if (received != WouldBlock)
            {
                return received;
            }

            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return -1;
            }

            _ = DescriptorPoll.Wait(_socket.SafeHandle, Libc.POLLIN, (int)Math.Min(left, PollSliceMilliseconds));
        }
    }

    /// <summary>One non-blocking receive: the count, 0 when the peer closed, <see cref="WouldBlock"/> when nothing is there.</summary>
    public unsafe int TryReceive(Span<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            return Transfer(start, buffer.Length, send: false);
        }
    }

    /// <summary>One non-blocking <c>send</c> or <c>recv</c> (retried on EINTR); <see cref="WouldBlock"/> on EAGAIN, other errors thrown.</summary>
    private unsafe int Transfer(byte* start, int length, bool send)
    {
        var added = false;
        var handle = _socket.SafeHandle;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                var done = send
                    ? Libc.Sendto(fd, start, (nuint)length, Libc.MSG_DONTWAIT | MsgNoSignal, null, 0)
                    : Libc.Recv(fd, start, (nuint)length, Libc.MSG_DONTWAIT);
                if (done >= 0)
                {
                    return (int)done;
                }

                var errno = Syscall.LastErrno;
                if (errno == Errno.EAGAIN)
                {
                    return WouldBlock;
                }

                if (errno != Errno.EINTR)
                {
                    throw new SystemCallException(send ? "send to the peer" : "receive from the peer", errno);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static int SliceMicroseconds(long deadline) =>
        (int)Math.Clamp(deadline - Environment.TickCount64, 1, PollSliceMilliseconds) * 1000;
}
