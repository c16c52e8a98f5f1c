using System.Buffers.Binary;

namespace TunTap.Devices;

/// <summary>
/// The 10-byte <c>struct virtio_net_hdr</c> that prefixes every packet on a device opened with
/// <see cref="TunDeviceOptions.VnetHeader"/>: it says whether the checksum still has to be
/// computed and whether the packet is a large one to be segmented. The multi-byte fields are
/// little endian (the device is switched to little endian with TUNSETVNETLE).
/// </summary>
/// <param name="Flags">VIRTIO_NET_HDR_F_* flags.</param>
/// <param name="GsoType">Segmentation type (VIRTIO_NET_HDR_GSO_*), plus the ECN bit.</param>
/// <param name="HeaderLength">hdr_len: bytes of Ethernet/IP/transport headers in front of the payload.</param>
/// <param name="GsoSize">gso_size: payload bytes per segment.</param>
/// <param name="ChecksumStart">csum_start: where checksumming starts, from the packet's first byte (after this header).</param>
/// <param name="ChecksumOffset">csum_offset: where, after ChecksumStart, the checksum goes.</param>
public readonly record struct VirtioNetHeader(
    VirtioNetHeaderFlags Flags,
    VirtioGsoType GsoType,
    ushort HeaderLength,
    ushort GsoSize,
    ushort ChecksumStart,
    ushort ChecksumOffset)
{
    /// <summary>sizeof(struct virtio_net_hdr).</summary>
    public const int Size = 10;

    /// <summary>A header for a complete packet: no checksum to fill, no segmentation.</summary>
    public static VirtioNetHeader None => default;

    /// <summary>Reads the header at the start of <paramref name="source"/>; false when it is shorter than <see cref="Size"/>.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> source, out VirtioNetHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new VirtioNetHeader(
            (VirtioNetHeaderFlags)source[Field.Flags],
            (VirtioGsoType)source[Field.GsoType],
            BinaryPrimitives.ReadUInt16LittleEndian(source[Field.HeaderLength..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Field.GsoSize..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Field.ChecksumStart..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Field.ChecksumOffset..]));
        return true;
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Size"/>.</exception>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"a virtio-net header needs {Size} bytes", nameof(destination));
        }

        destination[Field.Flags] = (byte)Flags;
        destination[Field.GsoType] = (byte)GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Field.HeaderLength..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Field.GsoSize..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Field.ChecksumStart..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Field.ChecksumOffset..], ChecksumOffset);
    }

    /// <summary>Byte offsets of the fields.</summary>
    public static class Field
    {
        /// <summary>flags (u8).</summary>
        public const int Flags = 0;

        /// <summary>gso_type (u8).</summary>
        public const int GsoType = 1;

        /// <summary>hdr_len (u16).</summary>
        public const int HeaderLength = 2;

        /// <summary>gso_size (u16).</summary>
        public const int GsoSize = 4;

        /// <summary>csum_start (u16).</summary>
        public const int ChecksumStart = 6;

        /// <summary>csum_offset (u16).</summary>
        public const int ChecksumOffset = 8;
    }
}
