using System.Runtime.InteropServices;

namespace TunTap.Interop;

internal static partial class Libc
{
    // struct passwd on LP64: pw_name, pw_passwd (pointers), then pw_uid and pw_gid (u32), then
    // three more pointers: 48 bytes.
    internal const int PasswdSize = 48;
    internal const int PasswdUidOffset = 16;

    /// <summary>Returns 0 or an errno value (not via errno); <paramref name="result"/> is null when no entry matches.</summary>
    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int GetpwnamR(string name, byte* passwd, byte* buffer, nuint bufferLength, byte** result);
}
