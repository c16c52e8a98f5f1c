namespace TunTap.Netlink;

/// <summary>Wire constants of netlink and rtnetlink (linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h).</summary>
internal static class NetlinkProtocol
{
    public const int Alignment = 4;
    public const int HeaderSize = 16;
    public const int AttributeHeaderSize = 4;
    public const ushort AttributeNested = 0x8000;
    public const ushort AttributeNetByteOrder = 0x4000;
    public const ushort AttributeTypeMask = 0x3FFF;

    public const int NetlinkRoute = 0;

    // Message types.
    public const ushort Noop = 1;
    public const ushort Error = 2;
    public const ushort Done = 3;
    public const ushort Overrun = 4;
    public const ushort NewLink = 16;
    public const ushort DelLink = 17;
    public const ushort GetLink = 18;
    public const ushort NewAddr = 20;
    public const ushort DelAddr = 21;
    public const ushort GetAddr = 22;
    public const ushort NewRoute = 24;
    public const ushort DelRoute = 25;
    public const ushort GetRoute = 26;

    // Header flags.
    public const ushort Request = 0x1;
    public const ushort Multi = 0x2;
    public const ushort Ack = 0x4;
    public const ushort DumpInterrupted = 0x10;
    public const ushort Dump = 0x300;
    public const ushort Replace = 0x100;
    public const ushort Exclusive = 0x200;
    public const ushort Create = 0x400;
    public const ushort Capped = 0x100;
    public const ushort AckTlvs = 0x200;

    // Extended ack attributes (NLMSGERR_ATTR_*).
    public const ushort ErrorAttributeMessage = 1;
    public const ushort ErrorAttributeOffset = 2;

    // Address families.
    public const byte AfUnspec = 0;
    public const byte AfInet = 2;
    public const byte AfInet6 = 10;

    // struct ifinfomsg, ifaddrmsg, rtmsg.
    public const int IfInfoSize = 16;
    public const int IfAddrSize = 8;
    public const int RtMsgSize = 12;

    // Interface flags.
    public const uint IffUp = 0x1;
    public const uint IffLowerUp = 0x10000;
    public const byte OperStateUp = 6;

    // IFLA_* link attributes.
    public const ushort IflaAddress = 1;
    public const ushort IflaIfName = 3;
    public const ushort IflaMtu = 4;
    public const ushort IflaOperState = 16;
    public const ushort IflaLinkInfo = 18;
    public const ushort IflaNetNsFd = 28;
    public const ushort IflaGsoMaxSegs = 40;
    public const ushort IflaInfoKind = 1;
    public const ushort IflaInfoData = 2;
    public const ushort VethInfoPeer = 1;

    // IFLA_TUN_* (inside IFLA_INFO_DATA of kind "tun").
    public const ushort TunOwner = 1;
    public const ushort TunGroup = 2;
    public const ushort TunType = 3;
    public const ushort TunPi = 4;
    public const ushort TunVnetHdr = 5;
    public const ushort TunPersist = 6;
    public const ushort TunMultiQueue = 7;
    public const ushort TunNumQueues = 8;
    public const ushort TunNumDisabledQueues = 9;
    public const byte IffTun = 1;
    public const byte IffTap = 2;

    // IFA_* address attributes and flags.
    public const ushort IfaAddress = 1;
    public const ushort IfaLocal = 2;
    public const ushort IfaFlags = 8;
    public const uint IfaFNoDad = 0x02;

    // RTA_* route attributes and rtmsg values.
    public const ushort RtaDst = 1;
    public const ushort RtaOif = 4;
    public const ushort RtaGateway = 5;
    public const ushort RtaPriority = 6;
    public const ushort RtaPrefSrc = 7;
    public const ushort RtaTable = 15;
    public const byte RtTableMain = 254;
    public const byte RtProtBoot = 3;
    public const byte RtScopeUniverse = 0;
    public const byte RtScopeLink = 253;
    public const byte RtScopeNowhere = 255;
    public const byte RtnUnicast = 1;
}
