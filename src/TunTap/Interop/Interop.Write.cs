using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(int fd, byte* buffer, nuint count);
}
