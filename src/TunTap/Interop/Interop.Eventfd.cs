using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int Eventfd(uint initialValue, int flags);
}
