using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    /// <summary>POLLIN: data to read.</summary>
    internal const short POLLIN = 0x1;

    /// <summary>POLLOUT: room to write.</summary>
    internal const short POLLOUT = 0x4;

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);
}
