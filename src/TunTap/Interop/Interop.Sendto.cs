using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    internal static unsafe partial nint Sendto(int fd, void* buffer, nuint length, int flags, void* address, uint addressLength);
}
