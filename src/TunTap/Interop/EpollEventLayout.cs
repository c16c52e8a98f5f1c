using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary>
/// The layout of <c>struct epoll_event</c> (u32 events, u64 data): the kernel declares it packed on
/// x86-64 (12 bytes, data at offset 4) and naturally aligned elsewhere (16 bytes, data at 8).
/// </summary>
internal static class EpollEventLayout
{
    private static readonly bool Packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Bytes per event.</summary>
    public static int Size => Packed ? 12 : 16;

    /// <summary>Offset of the 64-bit user data.</summary>
    public static int DataOffset => Packed ? 4 : 8;
}
