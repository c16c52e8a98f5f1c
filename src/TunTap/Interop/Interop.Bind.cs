using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(int fd, void* address, uint addressLength);
}
