using System.Runtime.InteropServices;

namespace TunTap.Emulation.Interop;

internal static partial class Libc
{
    internal const int CLOCK_MONOTONIC = 1;

    /// <summary>Returns 0, or an error number (not through errno), e.g. EINTR.</summary>
    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    internal static unsafe partial int ClockNanosleep(int clockId, int flags, Timespec* request, Timespec* remain);
}
