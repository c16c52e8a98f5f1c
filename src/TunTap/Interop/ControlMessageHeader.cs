using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary><c>struct cmsghdr</c>: the header of one ancillary-data item; its data follows at <see cref="Size"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ControlMessageHeader
{
    /// <summary>sizeof(struct cmsghdr) on 64-bit Linux, also CMSG_ALIGN of it.</summary>
    public const int Size = 16;

    /// <summary>cmsg_len: header plus data, unpadded (CMSG_LEN).</summary>
    public nuint Length;

    /// <summary>cmsg_level, e.g. SOL_UDP.</summary>
    public int Level;

    /// <summary>cmsg_type, e.g. UDP_SEGMENT.</summary>
    public int Type;

    /// <summary>CMSG_SPACE: the bytes an item with <paramref name="dataLength"/> bytes of data takes, padded.</summary>
    public static int Space(int dataLength) => Size + ((dataLength + 7) & ~7);
}
