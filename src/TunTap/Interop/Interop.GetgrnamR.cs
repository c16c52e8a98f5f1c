using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    // struct group on LP64: gr_name, gr_passwd (pointers), gr_gid (u32, padded), gr_mem: 32 bytes.
    internal const int GroupSize = 32;
    internal const int GroupGidOffset = 16;

    /// <summary>Returns 0 or an errno value (not via errno); <paramref name="result"/> is null when no entry matches.</summary>
    [LibraryImport("libc", EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetgrnamR(string name, byte* group, byte* buffer, nuint bufferLength, byte** result);
}
