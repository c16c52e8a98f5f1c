using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TunTap.Interop;

namespace TunTap.WireGuard;

/// <content>Batched socket calls: sendmmsg with UDP GSO, recvmmsg.</content>
public sealed partial class UdpSocketTransport
{
    /// <summary>SOL_UDP.</summary>
    private const int SolUdp = 17;

    /// <summary>UDP_SEGMENT: the ancillary item giving the size a send is cut into.</summary>
    private const int UdpSegment = 103;

    /// <summary>MSG_TRUNC in msg_flags: the datagram was longer than the buffer.</summary>
    private const int MessageTruncated = 0x20;

    /// <summary>Bytes reserved per message for its address (sizeof(struct sockaddr_in6)).</summary>
    private const int AddressSpace = 28;

    /// <summary>Bytes reserved per message for one UDP_SEGMENT item (CMSG_SPACE(sizeof(u16))).</summary>
    private static readonly int SegmentControlSpace = ControlMessageHeader.Space(sizeof(ushort));

    private readonly Lock _sendLock = new();
    private readonly Lock _receiveLock = new();
    private bool _gso = true;
    private int _disposed;

    // Native scratch for sendmmsg, grown to the largest batch seen; guarded by _sendLock.
    private unsafe MultiMessageHeader* _sendMessages;
    private unsafe IoVector* _sendVectors;
    private unsafe byte* _sendAddresses;
    private unsafe byte* _sendControl;
    private int _sendCapacity;
    private int[] _messageFirst = [];
    private int[] _messageRun = [];
    private GCHandle[] _pins = [];

    // Native scratch for recvmmsg; guarded by _receiveLock.
    private unsafe MultiMessageHeader* _receiveMessages;
    private unsafe IoVector* _receiveVectors;
    private unsafe byte* _receiveAddresses;
    private int _receiveCapacity;

    private unsafe int SendBatch(UdpSendBatch batch)
    {
        lock (_sendLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            EnsureSendCapacity(batch.Count);
            var pinned = 0;
            var added = false;
            try
            {
                pinned = PinArrays(batch);
                _socket.SafeHandle.DangerousAddRef(ref added);
                var fd = (int)_socket.SafeHandle.DangerousGetHandle();
                var sent = 0;
                var first = 0;
                while (first < batch.Count)
                {
                    var messages = BuildMessages(batch, first, _gso);
                    var done = 0;
                    var failedGso = false;
                    while (done < messages)
                    {
                        var result = Libc.Sendmmsg(fd, _sendMessages + done, (uint)(messages - done), 0);
                        if (result > 0)
                        {
                            for (var m = done; m < done + result; m++)
                            {
                                sent += _messageRun[m];
                            }

                            done += result;
                            continue;
                        }

                        var errno = Syscall.LastErrno;
                        if (errno == Errno.EINTR)
                        {
                            continue;
                        }

                        if (errno == Errno.EAGAIN)
                        {
                            // The send buffer is full: wait for room (the socket is non-blocking once it has been awaited).
                            _socket.Poll(100_000, SelectMode.SelectWrite);
                            ObjectDisposedException.ThrowIf(_disposed != 0, this);
                            continue;
                        }

                        if (_messageRun[done] > 1 && errno is Errno.EIO or Errno.EINVAL or Errno.EMSGSIZE or Errno.EOPNOTSUPP)
                        {
                            // No UDP GSO here (or not for this path): from now on one datagram per message.
                            Volatile.Write(ref _gso, false);
                            failedGso = true;
                            break;
                        }

                        // Unreachable, refused, no buffer space...: that message is lost, as one sendto would be.
                        done++;
                    }

                    first = failedGso ? _messageFirst[done] : batch.Count;
                }

                return sent;
            }
            finally
            {
                if (added)
                {
                    _socket.SafeHandle.DangerousRelease();
                }

                for (var i = 0; i < pinned; i++)
                {
                    _pins[i].Free();
                }
            }
        }
    }

    /// <summary>Pins each distinct buffer of the batch once (datagrams of one buffer are usually adjacent).</summary>
    private int PinArrays(UdpSendBatch batch)
    {
        var pinned = 0;
        byte[]? last = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var array = batch.GetArray(i);
            if (ReferenceEquals(array, last))
            {
                continue;
            }

            var seen = false;
            for (var p = 0; p < pinned && !seen; p++)
            {
                seen = ReferenceEquals(_pins[p].Target, array);
            }

            last = array;
            if (!seen)
            {
                _pins[pinned++] = GCHandle.Alloc(array, GCHandleType.Pinned);
            }
        }

        return pinned;
    }

    /// <summary>Fills the message array for datagrams from <paramref name="first"/> on; returns the message count.</summary>
    private unsafe int BuildMessages(UdpSendBatch batch, int first, bool gso)
    {
        var m = 0;
        for (var i = first; i < batch.Count;)
        {
            var run = gso ? UdpGsoRun.Length(batch, i) : 1;
            var message = &_sendMessages[m];
            var address = _sendAddresses + (m * AddressSpace);
            var remote = batch.GetRemote(i);
            var size = Math.Min(remote.Size, AddressSpace);
            remote.Buffer.Span[..size].CopyTo(new Span<byte>(address, AddressSpace));
            *message = default;
            message->Header.Name = address;
            message->Header.NameLength = (uint)size;
            message->Header.Vectors = _sendVectors + i;
            message->Header.VectorCount = (nuint)run;
            for (var k = i; k < i + run; k++)
            {
                var array = batch.GetArray(k);
                _sendVectors[k].Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + batch.GetOffset(k);
                _sendVectors[k].Length = (nuint)batch.GetLength(k);
            }

            if (run > 1)
            {
                var control = _sendControl + (m * SegmentControlSpace);
                var header = (ControlMessageHeader*)control;
                header->Length = (nuint)(ControlMessageHeader.Size + sizeof(ushort));
                header->Level = SolUdp;
                header->Type = UdpSegment;
                *(ushort*)(control + ControlMessageHeader.Size) = (ushort)batch.GetLength(i);
                message->Header.Control = control;
                message->Header.ControlLength = (nuint)SegmentControlSpace;
            }

            _messageFirst[m] = i;
            _messageRun[m] = run;
            m++;
            i += run;
        }

        return m;
    }

    private unsafe void EnsureSendCapacity(int count)
    {
        if (count <= _sendCapacity)
        {
            return;
        }

        FreeSendScratch();
        var capacity = Math.Max(count, 64);
        _sendMessages = (MultiMessageHeader*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(MultiMessageHeader));
        _sendVectors = (IoVector*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)sizeof(IoVector));
        _sendAddresses = (byte*)NativeMemory.AllocZeroed((nuint)capacity, AddressSpace);
        _sendControl = (byte*)NativeMemory.AllocZeroed((nuint)capacity, (nuint)SegmentControlSpace);
        _messageFirst = new int[capacity];
        _messageRun = new int[capacity];
        _pins = new GCHandle[capacity];
        _sendCapacity = capacity;
    }

    /// <summary>Receives what is queued (not waiting); 0 when nothing is.</summary>
    private unsafe int TryReceiveBatch(UdpReceiveBatch batch)
    {
        lock (_receiveLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            EnsureReceiveCapacity(batch.Capacity);
            var capacity = batch.Capacity;
            var max = (nuint)batch.MaxDatagramSize;
            for (var i = 0; i < capacity; i++)
            {
                // The batch's buffers come from the pinned heap: their addresses are stable.
                var array = batch.Packets.GetArray(i);
                _receiveVectors[i].Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)) + batch.DatagramOffset;
                _receiveVectors[i].Length = max;
                var message = &_receiveMessages[i];
                *message = default;
                message->Header.Name = _receiveAddresses + (i * AddressSpace);
                message->Header.NameLength = AddressSpace;
                message->Header.Vectors = _receiveVectors + i;
                message->Header.VectorCount = 1;
            }

            var added = false;
            try
            {
                _socket.SafeHandle.DangerousAddRef(ref added);
                var fd = (int)_socket.SafeHandle.DangerousGetHandle();
                while (true)
                {
                    var result = Libc.Recvmmsg(fd, _receiveMessages, (uint)capacity, Libc.MSG_DONTWAIT, null);
                    if (result > 0)
                    {
                        for (var i = 0; i < result; i++)
                        {
                            var message = &_receiveMessages[i];
                            var truncated = (message->Header.Flags & MessageTruncated) != 0;
                            batch.SetDatagramLength(i, truncated ? 0 : (int)message->Length);
                            var remote = batch.GetRemote(i);
                            var size = (int)Math.Min(message->Header.NameLength, (uint)remote.Buffer.Length);
                            new ReadOnlySpan<byte>(message->Header.Name, size).CopyTo(remote.Buffer.Span);
                            remote.Size = size;
                        }

                        batch.Count = result;
                        return result;
                    }

                    var errno = Syscall.LastErrno;
                    if (errno == Errno.EAGAIN)
                    {
                        batch.Count = 0;
                        return 0;
                    }

                    if (errno is Errno.EINTR or Errno.ECONNREFUSED or Errno.EHOSTUNREACH or Errno.ENETUNREACH)
                    {
                        // An ICMP error reported on the socket: it is cleared by this call; keep receiving.
                        continue;
                    }

                    throw new SocketException(errno);
                }
            }
            finally
            {
                if (added)
                {
                    _socket.SafeHandle.DangerousRelease();
                }
            }
        }
    }

    private unsafe void EnsureReceiveCapacity(int count)
    {
        if (count <= _receiveCapacity)
        {
            return;
        }

        FreeReceiveScratch();
        _receiveMessages = (MultiMessageHeader*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(MultiMessageHeader));
        _receiveVectors = (IoVector*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(IoVector));
        _receiveAddresses = (byte*)NativeMemory.AllocZeroed((nuint)count, AddressSpace);
        _receiveCapacity = count;
    }

    private void FreeScratch()
    {
        FreeSendScratch();
        FreeReceiveScratch();
    }

    private unsafe void FreeSendScratch()
    {
        NativeMemory.Free(_sendMessages);
        NativeMemory.Free(_sendVectors);
        NativeMemory.Free(_sendAddresses);
        NativeMemory.Free(_sendControl);
        _sendMessages = null;
        _sendVectors = null;
        _sendAddresses = null;
        _sendControl = null;
        _sendCapacity = 0;
    }

    private unsafe void FreeReceiveScratch()
    {
        NativeMemory.Free(_receiveMessages);
        NativeMemory.Free(_receiveVectors);
        NativeMemory.Free(_receiveAddresses);
        _receiveMessages = null;
        _receiveVectors = null;
        _receiveAddresses = null;
        _receiveCapacity = 0;
    }
}
