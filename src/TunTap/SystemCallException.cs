using System.Runtime.InteropServices;

namespace TunTap;

/// <summary>
/// A system call or kernel request failed. The message names the operation and the errno
/// (for example <c>create tun device 'tun0': EBUSY (Device or resource busy)</c>).
/// </summary>
public class SystemCallException : TunTapException
{
    /// <summary>Creates the exception for <paramref name="operation"/> failing with <paramref name="errno"/>.</summary>
    public SystemCallException(string operation, int errno, string? hint = null)
        : base($"{operation}: {Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})", hint ?? Errno.DefaultHint(errno))
    {
        Operation = operation;
        ErrorNumber = errno;
    }

    /// <summary>What was being done, in words.</summary>
    public string Operation { get; }

    /// <summary>The positive errno value the kernel returned.</summary>
    public int ErrorNumber { get; }
}
