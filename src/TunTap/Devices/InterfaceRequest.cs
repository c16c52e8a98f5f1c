using System.Runtime.InteropServices;
using System.Text;

namespace TunTap.Devices;

/// <summary>
/// Encodes and decodes <c>struct ifreq</c> as the TUN ioctls use it: 40 bytes, the interface name
/// (NUL-terminated, at most 15 bytes) in the first 16, and <c>short ifr_flags</c> at offset 16 in
/// the union that fills the rest.
/// </summary>
internal static class InterfaceRequest
{
    /// <summary>sizeof(struct ifreq) on 64-bit Linux.</summary>
    public const int Size = 40;

    /// <summary>IFNAMSIZ: name bytes including the terminating NUL.</summary>
    public const int NameSize = 16;

    /// <summary>Offset of ifr_flags.</summary>
    public const int FlagsOffset = 16;

    /// <summary>Writes <paramref name="name"/> (may be empty) and <paramref name="flags"/> into <paramref name="request"/>, zeroing the rest.</summary>
    public static void Encode(Span<byte> request, string name, short flags)
    {
        request = request[..Size];
        request.Clear();
        InterfaceName.Validate(name, allowEmpty: true);
        Encoding.UTF8.GetBytes(name, request[..(NameSize - 1)]);
        MemoryMarshal.Write(request[FlagsOffset..], in flags);
    }

    /// <summary>The name in <paramref name="request"/>, up to its NUL.</summary>
    public static string DecodeName(ReadOnlySpan<byte> request)
    {
        var name = request[..NameSize];
        var end = name.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? name : name[..end]);
    }

    /// <summary>The ifr_flags in <paramref name="request"/> (host byte order).</summary>
    public static short DecodeFlags(ReadOnlySpan<byte> request) =>
        MemoryMarshal.Read<short>(request[FlagsOffset..]);
}
