using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    internal static unsafe partial nint Writev(int fd, IoVector* vectors, int count);
}
