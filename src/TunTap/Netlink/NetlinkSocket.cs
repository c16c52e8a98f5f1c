using TunTap.Interop;

namespace TunTap.Netlink;

/// <summary>
/// A netlink socket speaking request/reply: sends one request, then reads datagrams until the
/// answer to that sequence number ends (an ack or error for requests, NLMSG_DONE for dumps).
/// Replies to other sequence numbers (left over from an abandoned request) are skipped. Only this
/// class does I/O; encoding and decoding live in the message classes.
/// </summary>
internal sealed class NetlinkSocket : IDisposable
{
    private const int InitialReceiveBufferSize = 32 * 1024;
    private const int ReceiveTimeoutSeconds = 10;
    private const int MaxDatagramsPerReply = 1_000_000;
    private const int MaxInterruptedRetries = 100;

    private readonly SafeFileDescriptor _fd;
    private byte[] _receiveBuffer = new byte[InitialReceiveBufferSize];
    private uint _sequence;

    private NetlinkSocket(SafeFileDescriptor fd)
    {
        _fd = fd;
    }

    /// <summary>Opens and binds a netlink socket of <paramref name="protocol"/> in the calling thread's network namespace.</summary>
    public static unsafe NetlinkSocket Open(int protocol)
    {
        var fd = new SafeFileDescriptor(Syscall.Check(Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, protocol), "open netlink socket"));
        try
        {
            var raw = fd.Fd;
            var on = 1;

            // Extended acks carry the kernel's error text; capped acks keep error replies small.
            Syscall.Check(Libc.Setsockopt(raw, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, &on, sizeof(int)), "enable netlink extended acks");
            Syscall.Check(Libc.Setsockopt(raw, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, &on, sizeof(int)), "enable capped netlink acks");
            var timeout = stackalloc long[2] { ReceiveTimeoutSeconds, 0 };
            Syscall.Check(Libc.Setsockopt(raw, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeout, 2 * sizeof(long)), "set netlink receive timeout");

            var address = stackalloc byte[12];
            new Span<byte>(address, 12).Clear();
            address[0] = Libc.AF_NETLINK;
            Syscall.Check(Libc.Bind(raw, address, 12), "bind netlink socket");
            return new NetlinkSocket(fd);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The next request sequence number (never 0, which the kernel uses for notifications).</summary>
    public uint NextSequence()
    {
        _sequence = _sequence == uint.MaxValue ? 1 : _sequence + 1;
        return _sequence;
    }

    /// <summary>
    /// Sends <paramref name="request"/> (sequence <paramref name="sequence"/>) and passes each data
    /// reply to <paramref name="handler"/> until the answer ends. Returns the kernel's verdict:
    /// errno 0 on success. <paramref name="interrupted"/> tells that a dump changed while it was read
    /// (NLM_F_DUMP_INTR) and should be repeated.
    /// </summary>
    public NetlinkError Transact(ReadOnlySpan<byte> request, uint sequence, bool dump, NetlinkReplyHandler? handler, out bool interrupted)
    {
        interrupted = false;
        Send(request);
        for (var datagrams = 0; datagrams < MaxDatagramsPerReply; datagrams++)
        {
            var length = ReceiveDatagram();
            var reader = new NetlinkMessageReader(_receiveBuffer.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                if ((message.Flags & NetlinkProtocol.DumpInterrupted) != 0)
                {
                    interrupted = true;
                }

                switch (message.Type)
                {
                    case NetlinkProtocol.Error:
                        return NetlinkError.TryParse(message.Payload, message.Flags, out var error)
                            ? error
                            : throw Malformed();
                    case NetlinkProtocol.Done:
                        if (dump)
                        {
                            return NetlinkError.ParseDone(message.Payload, message.Flags);
                        }

                        break;
                    case NetlinkProtocol.Noop:
                        break;
                    case NetlinkProtocol.Overrun:
                        return new NetlinkError(Errno.ENOBUFS, "netlink overrun", null);
                    default:
                        handler?.Invoke(message);
                        break;
                }
            }

            if (reader.IsMalformed)
            {
                throw Malformed();
            }
        }

        throw new TunTapException("the kernel's netlink reply did not end", "this is a bug; please report it");
    }

    /// <summary>How often a dump may be repeated because the data changed while it was read.</summary>
    public static int InterruptedRetries => MaxInterruptedRetries;

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();

    private static TunTapException Malformed() =>
        new("malformed netlink reply from the kernel", "this is a bug; please report it with the kernel version");

    private unsafe void Send(ReadOnlySpan<byte> request)
    {
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var kernel = stackalloc byte[12];
            new Span<byte>(kernel, 12).Clear();
            kernel[0] = Libc.AF_NETLINK;
            fixed (byte* data = request)
            {
                nint sent;
                var attempts = 0;
                do
                {
                    sent = Libc.Sendto(_fd.Fd, data, (nuint)request.Length, 0, kernel, 12);
                }
                while (sent < 0 && Syscall.LastErrno == Errno.EINTR && ++attempts < 100);
                Syscall.Check(sent, "send netlink request");
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

    // Peeks at the next datagram's full size first, so a large dump message is never truncated.
    private unsafe int ReceiveDatagram()
    {
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var size = Receive(_receiveBuffer, Libc.MSG_PEEK | Libc.MSG_TRUNC);
            if (size > _receiveBuffer.Length)
            {
                _receiveBuffer = new byte[size];
            }

            return Receive(_receiveBuffer, 0);
        }
        finally
        {
            if (added)
            {
                _fd.DangerousRelease();
            }
        }
    }

    private unsafe int Receive(byte[] buffer, int flags)
    {
        fixed (byte* data = buffer)
        {
            nint received;
            var attempts = 0;
            do
            {
                received = Libc.Recv(_fd.Fd, data, (nuint)buffer.Length, flags);
            }
            while (received < 0 && Syscall.LastErrno == Errno.EINTR && ++attempts < 100);

            if (received < 0 && Syscall.LastErrno == Errno.EAGAIN)
            {
                throw new SystemCallException("receive netlink reply", Errno.EAGAIN, $"the kernel did not answer within {ReceiveTimeoutSeconds} s");
            }

            return (int)Syscall.Check(received, "receive netlink reply");
        }
    }
}
