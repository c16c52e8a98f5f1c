using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    /// <summary>MSG_DONTWAIT: this call does not block, whatever the descriptor's mode.</summary>
    internal const int MSG_DONTWAIT = 0x40;

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    internal static unsafe partial int Recvmmsg(int fd, MultiMessageHeader* messages, uint count, int flags, void* timeout);
}
