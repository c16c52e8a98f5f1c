using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint Sendmsg(int fd, MessageHeader* message, int flags);
}
