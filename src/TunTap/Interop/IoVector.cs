using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary><c>struct iovec</c>: one buffer of a scatter/gather list.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVector
{
    /// <summary>iov_base.</summary>
    public byte* Base;

    /// <summary>iov_len.</summary>
    public nuint Length;
}
