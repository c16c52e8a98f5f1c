using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary>The one place where a failed libc call becomes an exception.</summary>
internal static class Syscall
{
    /// <summary>The errno of the last <c>SetLastError = true</c> import.</summary>
    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>Throws a <see cref="SystemCallException"/> naming <paramref name="operation"/> when <paramref name="result"/> is negative.</summary>
    public static int Check(int result, string operation, string? hint = null) =>
        result < 0 ? throw new SystemCallException(operation, LastErrno, hint) : result;

    /// <summary>As <see cref="Check(int, string, string?)"/> for calls returning ssize_t.</summary>
    public static nint Check(nint result, string operation, string? hint = null) =>
        result < 0 ? throw new SystemCallException(operation, LastErrno, hint) : result;
}
