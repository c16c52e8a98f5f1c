using System.Buffers.Binary;

namespace TunTap.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
/// big-endian words. Sums are carried in a <see cref="ulong"/> and folded only by
/// <see cref="Fold"/>/<see cref="Finish"/>, so several spans (pseudo header, header, payload) can be
/// accumulated cheaply. Checksum values are the 16-bit numbers as they read big-endian from the wire.
/// </summary>
public static class InternetChecksum
{
    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));

    /// <summary>
    /// The checksum <paramref name="message"/> should carry in its 16-bit field at
    /// <paramref name="checksumOffset"/> (an even offset): the field is taken as zero, whatever it
    /// holds, and <paramref name="sum"/> (a pseudo header sum, or 0) is added.
    /// </summary>
    public static ushort ComputeWithoutField(ulong sum, ReadOnlySpan<byte> message, int checksumOffset) =>
        Finish(Add(Add(sum, message[..checksumOffset]), message[(checksumOffset + 2)..]));

    /// <summary>
    /// Adds <paramref name="data"/> to a running sum. Every span but the last one of a message must
    /// have an even length (an odd final byte is padded with a zero byte, as the RFC says).
    /// </summary>
    public static ulong Add(ulong sum, ReadOnlySpan<byte> data)
    {
        // 32-bit big-endian chunks added into 64 bits: carries collect in the upper half and are
        // folded back at the end, which is the same ones' complement sum (RFC 1071, section 2).
        var i = 0;
        while (data.Length - i >= 8)
        {
            var chunk = BinaryPrimitives.ReadUInt64BigEndian(data[i..]);
            sum += (chunk >> 32) + (chunk & 0xFFFF_FFFF);
            i += 8;
        }

        if (data.Length - i >= 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            i += 4;
        }

        if (data.Length - i >= 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            i += 2;
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Adds one 16-bit value to a running sum.</summary>
    public static ulong Add(ulong sum, ushort value) => sum + value;

    /// <summary>Adds one 32-bit value (two 16-bit words) to a running sum.</summary>
    public static ulong Add(ulong sum, uint value) => sum + (value >> 16) + (value & 0xFFFF);

    /// <summary>Folds the carries of a running sum into 16 bits (the ones' complement sum, not yet inverted).</summary>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum for a running sum: the ones' complement of <see cref="Fold"/>.</summary>
    public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

    /// <summary>
    /// True when a running sum taken over a whole message, its checksum field included, verifies
    /// (folds to 0xFFFF).
    /// </summary>
    public static bool IsValid(ulong sum) => Fold(sum) == 0xFFFF;

    /// <summary>
    /// The sum of the TCP/UDP/ICMPv6 pseudo header for IPv4 (RFC 768/793) or IPv6 (RFC 8200 8.1):
    /// source, destination, protocol and upper-layer length. The same words are summed for both
    /// families, so this takes 4- or 16-byte addresses.
    /// </summary>
    public static ulong PseudoHeaderSum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, uint length)
    {
        var sum = Add(0, source);
        sum = Add(sum, destination);
        return Add(sum + protocol, length);
    }

    /// <summary>The IPv4 pseudo header sum with addresses as big-endian-read <see cref="uint"/> values.</summary>
    public static ulong PseudoHeaderSum(uint source, uint destination, byte protocol, ushort length) =>
        Add(Add(0, source), destination) + protocol + length;

    /// <summary>
    /// Updates a checksum after one 16-bit word of the message changed from <paramref name="oldValue"/>
    /// to <paramref name="newValue"/> (RFC 1624, equation 3: HC' = ~(~HC + ~m + m')).
    /// </summary>
    public static ushort Update(ushort oldChecksum, ushort oldValue, ushort newValue)
    {
        ulong sum = (ushort)~oldChecksum;
        sum += (ushort)~oldValue;
        sum += newValue;
        return Finish(sum);
    }

    /// <summary>Like <see cref="Update(ushort, ushort, ushort)"/> for a 32-bit field such as an IPv4 address.</summary>
    public static ushort Update(ushort oldChecksum, uint oldValue, uint newValue)
    {
        ulong sum = (ushort)~oldChecksum;
        sum += (ushort)~(oldValue >> 16);
        sum += (ushort)~oldValue;
        sum += newValue >> 16;
        sum += newValue & 0xFFFF;
        return Finish(sum);
    }
}
