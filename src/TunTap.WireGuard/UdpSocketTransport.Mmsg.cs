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

    /// <summary>UDP_GRO: the kernel may hand over several datagrams of one sender in one receive, with their size as ancillary data.</summary>
    private const int UdpGro = 104;

    /// <summary>Coalesced receives per recvmmsg when UDP GRO is on.</summary>
    private const int CoalescedMessages = 16;

    /// <summary>A coalesced receive holds at most one UDP datagram's worth of segments.</summary>
    private const int CoalescedBufferSize = 65_536;

    /// <summary>Control space per coalesced receive (one int item, with slack for anything else the kernel adds).</summary>
    private const int CoalescedControlSpace = 64;

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

    // UDP GRO receives (guarded by _receiveLock): coalesced messages not yet split into a batch.
    private bool _gro;
    private byte[][] _coalesced = [];
    private unsafe MultiMessageHeader* _coalescedMessages;
    private unsafe IoVector* _coalescedVectors;
    private unsafe byte* _coalescedAddresses;
    private unsafe byte* _coalescedControl;
    private int _pendingMessage;
    private int _pendingMessages;
    private int _pendingOffset;

    /// <summary>True when the socket has UDP GRO on: one receive may carry many datagrams of a sender.</summary>
    public bool ReceiveOffload => _gro;

    /// <summary>Turns UDP GRO on where the kernel has it (best effort).</summary>
    private unsafe void TryEnableReceiveOffload()
    {
        Span<byte> value = stackalloc byte[sizeof(int)];
        BitConverter.TryWriteBytes(value, 1);
        try
        {
            _socket.SetRawSocketOption(SolUdp, UdpGro, value);
        }
        catch (SocketException)
        {
            return;
        }

        _coalesced = new byte[CoalescedMessages][];
        for (var i = 0; i < CoalescedMessages; i++)
        {
            _coalesced[i] = GC.AllocateUninitializedArray<byte>(CoalescedBufferSize, pinned: true);
        }

        _coalescedMessages = (MultiMessageHeader*)NativeMemory.AllocZeroed(CoalescedMessages, (nuint)sizeof(MultiMessageHeader));
        _coalescedVectors = (IoVector*)NativeMemory.AllocZeroed(CoalescedMessages, (nuint)sizeof(IoVector));
        _coalescedAddresses = (byte*)NativeMemory.AllocZeroed(CoalescedMessages, AddressSpace);
        _coalescedControl = (byte*)NativeMemory.AllocZeroed(CoalescedMessages, CoalescedControlSpace);
        _gro = true;
    }

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

    /// <summary>Waits (blocking, up to <paramref name="timeoutMilliseconds"/>) until a datagram is queued; false on timeout.</summary>
    internal bool WaitReadable(int timeoutMilliseconds)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return DescriptorPoll.Wait(_socket.SafeHandle, Libc.POLLIN, timeoutMilliseconds);
    }

    /// <summary>Receives what is queued (not waiting); 0 when nothing is.</summary>
    internal unsafe int TryReceiveBatch(UdpReceiveBatch batch)
    {
        lock (_receiveLock)
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            if (_gro)
            {
                return TryReceiveCoalesced(batch);
            }

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

            var result = ReceiveMessages(_receiveMessages, (uint)capacity);
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
    }

    /// <summary>With UDP GRO: splits coalesced receives into the batch, receiving more when none are left.</summary>
    private unsafe int TryReceiveCoalesced(UdpReceiveBatch batch)
    {
        if (_pendingMessage >= _pendingMessages)
        {
            var received = ReceiveCoalesced();
            if (received <= 0)
            {
                batch.Count = 0;
                return 0;
            }

            _pendingMessage = 0;
            _pendingMessages = received;
            _pendingOffset = 0;
        }

        var filled = 0;
        while (_pendingMessage < _pendingMessages && filled < batch.Capacity)
        {
            var message = &_coalescedMessages[_pendingMessage];
            var total = (int)message->Length;
            var truncated = (message->Header.Flags & MessageTruncated) != 0;
            var segment = SegmentSize(message);
            if (segment <= 0 || segment > total)
            {
                segment = Math.Max(total, 1);
            }

            var source = new ReadOnlySpan<byte>(_coalescedVectors[_pendingMessage].Base, total);
            var address = new ReadOnlySpan<byte>(message->Header.Name, (int)Math.Min(message->Header.NameLength, AddressSpace));
            do
            {
                var length = Math.Min(segment, total - _pendingOffset);
                if (truncated || length > batch.MaxDatagramSize)
                {
                    length = 0;
                }
                else
                {
                    source.Slice(_pendingOffset, length).CopyTo(batch.GetDatagramBuffer(filled).Span);
                }

                batch.SetDatagramLength(filled, length);
                var remote = batch.GetRemote(filled);
                var size = Math.Min(address.Length, remote.Buffer.Length);
                address[..size].CopyTo(remote.Buffer.Span);
                remote.Size = size;
                filled++;
                _pendingOffset += segment;
            }
            while (_pendingOffset < total && filled < batch.Capacity);

            if (_pendingOffset >= total)
            {
                _pendingMessage++;
                _pendingOffset = 0;
            }
        }

        batch.Count = filled;
        return filled;
    }

    /// <summary>recvmmsg into the coalesced buffers; 0 when nothing is queued.</summary>
    private unsafe int ReceiveCoalesced()
    {
        for (var i = 0; i < CoalescedMessages; i++)
        {
            _coalescedVectors[i].Base = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_coalesced[i]));
            _coalescedVectors[i].Length = CoalescedBufferSize;
            var message = &_coalescedMessages[i];
            *message = default;
            message->Header.Name = _coalescedAddresses + (i * AddressSpace);
            message->Header.NameLength = AddressSpace;
            message->Header.Vectors = _coalescedVectors + i;
            message->Header.VectorCount = 1;
            message->Header.Control = _coalescedControl + (i * CoalescedControlSpace);
            message->Header.ControlLength = CoalescedControlSpace;
        }

        return ReceiveMessages(_coalescedMessages, CoalescedMessages);
    }

    /// <summary>
    /// One non-blocking <c>recvmmsg</c> into <paramref name="messages"/>; 0 when nothing is
    /// queued. An ICMP error reported on the socket (refused, unreachable) is cleared by the call
    /// and receiving goes on.
    /// </summary>
    private unsafe int ReceiveMessages(MultiMessageHeader* messages, uint count)
    {
        var added = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref added);
            var fd = (int)_socket.SafeHandle.DangerousGetHandle();
            while (true)
            {
                var result = Libc.Recvmmsg(fd, messages, count, Libc.MSG_DONTWAIT, null);
                if (result >= 0)
                {
                    return result;
                }

                var errno = Syscall.LastErrno;
                if (errno == Errno.EAGAIN)
                {
                    return 0;
                }

                if (errno is not (Errno.EINTR or Errno.ECONNREFUSED or Errno.EHOSTUNREACH or Errno.ENETUNREACH))
                {
                    throw new SocketException(errno);
                }
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

    /// <summary>The UDP_GRO segment size a coalesced receive came with; 0 when it is one datagram.</summary>
    private static unsafe int SegmentSize(MultiMessageHeader* message)
    {
        var control = message->Header.Control;
        var end = control + message->Header.ControlLength;
        var item = control;
        while (item + ControlMessageHeader.Size <= end)
        {
            var header = (ControlMessageHeader*)item;
            if (header->Length < ControlMessageHeader.Size)
            {
                break;
            }

            if (header->Level == SolUdp && header->Type == UdpGro && header->Length >= ControlMessageHeader.Size + sizeof(int))
            {
                return *(int*)(item + ControlMessageHeader.Size);
            }

            item += ControlMessageHeader.Space((int)header->Length - ControlMessageHeader.Size);
        }

        return 0;
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

    private unsafe void FreeScratch()
    {
        FreeSendScratch();
        FreeReceiveScratch();
        NativeMemory.Free(_coalescedMessages);
        NativeMemory.Free(_coalescedVectors);
        NativeMemory.Free(_coalescedAddresses);
        NativeMemory.Free(_coalescedControl);
        _coalescedMessages = null;
        _coalescedVectors = null;
        _coalescedAddresses = null;
        _coalescedControl = null;
        _gro = false;
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
