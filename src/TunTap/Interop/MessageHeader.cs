using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary><c>struct msghdr</c> of <c>sendmsg</c>/<c>recvmsg</c> (natural alignment gives the kernel's layout).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MessageHeader
{
    /// <summary>msg_name: the peer's socket address.</summary>
    public byte* Name;

    /// <summary>msg_namelen.</summary>
    public uint NameLength;

    /// <summary>msg_iov.</summary>
    public IoVector* Vectors;

    /// <summary>msg_iovlen.</summary>
    public nuint VectorCount;

    /// <summary>msg_control: ancillary data (a sequence of <see cref="ControlMessageHeader"/>s).</summary>
    public byte* Control;

    /// <summary>msg_controllen.</summary>
    public nuint ControlLength;

    /// <summary>msg_flags (set on receive).</summary>
    public int Flags;
}
