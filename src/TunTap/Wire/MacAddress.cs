using System.Buffers.Binary;
using System.Net.NetworkInformation;

namespace TunTap.Wire;

/// <summary>
/// A 48-bit Ethernet MAC address held in a value (no allocation), for the hot path.
/// Convert to and from <see cref="PhysicalAddress"/> at the edges.
/// </summary>
public readonly record struct MacAddress
{
    /// <summary>The length of a MAC address in bytes.</summary>
    public const int Length = 6;

    private readonly ulong _value;

    private MacAddress(ulong value) => _value = value & 0xFFFF_FFFF_FFFF;

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(0xFFFF_FFFF_FFFF);

    /// <summary>True for ff:ff:ff:ff:ff:ff.</summary>
    public bool IsBroadcast => _value == 0xFFFF_FFFF_FFFF;

    /// <summary>True when the group bit (least significant bit of the first byte) is set; broadcast included.</summary>
    public bool IsMulticast => ((_value >> 40) & 1) != 0;

    /// <summary>The address as a 48-bit number, first byte most significant.</summary>
    public ulong Value => _value;

    /// <summary>An address from a 48-bit number (first byte most significant); higher bits are ignored.</summary>
    public static MacAddress FromValue(ulong value) => new(value);

    /// <summary>Reads the first six bytes of <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is shorter than six bytes.</exception>
    public static MacAddress Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Length)
        {
            throw new ArgumentException("a MAC address needs six bytes", nameof(source));
        }

        return new(((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32) | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));
    }

    /// <summary>Converts a six-byte <see cref="PhysicalAddress"/>.</summary>
    /// <exception cref="ArgumentException">The address is not six bytes long.</exception>
    public static MacAddress FromPhysicalAddress(PhysicalAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        if (bytes.Length != Length)
        {
            throw new ArgumentException("a MAC address must be six bytes long", nameof(address));
        }

        return Read(bytes);
    }

    /// <summary>Writes the six bytes into the start of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than six bytes.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length)
        {
            throw new ArgumentException("a MAC address needs six bytes", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(_value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)_value);
    }

    /// <summary>Converts to a <see cref="PhysicalAddress"/> (allocates).</summary>
    public PhysicalAddress ToPhysicalAddress()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return new PhysicalAddress(bytes);
    }

    /// <summary>Lower-case colon notation, e.g. <c>02:00:5e:10:00:01</c>.</summary>
    public override string ToString()
    {
        return string.Create(17, _value, static (chars, value) =>
        {
            for (var i = 0; i < Length; i++)
            {
                var b = (byte)(value >> (40 - (8 * i)));
                if (i > 0)
                {
                    chars[(3 * i) - 1] = ':';
                }

                chars[3 * i] = "0123456789abcdef"[b >> 4];
                chars[(3 * i) + 1] = "0123456789abcdef"[b & 0xF];
            }
        });
    }
}
