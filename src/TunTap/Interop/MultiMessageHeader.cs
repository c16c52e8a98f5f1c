using System.Runtime.InteropServices;

namespace TunTap.Interop;

/// <summary><c>struct mmsghdr</c> of <c>sendmmsg</c>/<c>recvmmsg</c>: a message and the bytes it carried.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MultiMessageHeader
{
    /// <summary>msg_hdr.</summary>
    public MessageHeader Header;

    /// <summary>msg_len: bytes sent or received.</summary>
    public uint Length;
}
