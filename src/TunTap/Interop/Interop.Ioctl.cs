using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    // ioctl is variadic; its third argument is passed in a register either way, so one
    // pointer-sized signature serves requests that take a pointer and those that take a value.
    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(int fd, nuint request, void* arg);
}
