using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const uint STATX_TYPE = 0x1;

    /// <summary>Size of struct statx (fixed on every architecture, unlike struct stat).</summary>
    internal const int StatxSize = 256;

    /// <summary>Offset of <c>stx_mode</c> (a u16) in struct statx.</summary>
    internal const int StatxModeOffset = 28;

    internal const int S_IFMT = 0xF000;
    internal const int S_IFSOCK = 0xC000;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
