using System.Runtime.InteropServices;

namespace TunTap.Emulation.Interop;

internal static partial class Libc
{
    /// <summary>PR_SET_TIMERSLACK: how late (ns) the kernel may fire this thread's timers to batch wakeups (default 50 µs).</summary>
    internal const int PR_SET_TIMERSLACK = 29;

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint argument2, nuint argument3, nuint argument4, nuint argument5);
}
