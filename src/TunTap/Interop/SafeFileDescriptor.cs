using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary>Owns one Linux file descriptor and closes it exactly once.</summary>
internal sealed class SafeFileDescriptor : SafeHandle
{
    public SafeFileDescriptor()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFileDescriptor(int fd, bool ownsHandle = true)
        : base(invalidHandleValue: -1, ownsHandle)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor; valid while the handle is alive (use DangerousAddRef around syscalls that may race Dispose).</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Libc.Close((int)handle.ToInt64()) == 0;
}
