using TunTap.Buffers;

namespace TunTap.Switching;

/// <summary>
/// Takes one received datagram for the batch being filled: the port checks it, counts it, and adds
/// the frame it carries (if any) to <paramref name="batch"/>. <paramref name="datagram"/> lives in the
/// receiver's buffer and is overwritten by the next receive.
/// </summary>
internal delegate void DatagramHandler(PacketBatch batch, ReadOnlySpan<byte> datagram);
