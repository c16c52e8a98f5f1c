using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "recvfrom", SetLastError = true)]
    internal static unsafe partial nint Recvfrom(int fd, void* buffer, nuint length, int flags, void* address, uint* addressLength);
}
