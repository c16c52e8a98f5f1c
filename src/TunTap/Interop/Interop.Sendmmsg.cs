using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    internal static unsafe partial int Sendmmsg(int fd, MultiMessageHeader* messages, uint count, int flags);
}
