using TunTap.TestKit;

namespace TunTap.Tests.Wire;

/// <summary>
/// Packets built by scapy (an independent implementation) at test time, by name. Skips outside CI
/// when python3 or scapy is missing; fails under CI.
/// </summary>
internal static class ScapyPackets
{
    private const string Python = "/usr/bin/python3";

    private const string Script = """
        import sys
        from scapy.all import Ether, Dot1Q, IP, IPv6, UDP, TCP, ICMP, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6ExtHdrHopByHop, ARP, raw
        def out(name, p):
            print(name, raw(p).hex())
        out("ipv4_udp", IP(src="10.9.0.1", dst="10.9.0.2", id=4321, ttl=33, flags="DF", tos=0xb9) / UDP(sport=5353, dport=7) / b"hello scapy")
        out("ipv6_udp", IPv6(src="fd00:9::1", dst="fd00:9::2", hlim=17, tc=0x2e, fl=0x12345) / UDP(sport=40000, dport=7) / b"odd!!")
        out("ipv4_tcp", IP(src="192.0.2.1", dst="198.51.100.7") / TCP(sport=12345, dport=443, seq=1000000, ack=0, flags="S", window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)), ("NOP", None), ("WScale", 7)]) / b"xyz")
        out("ipv6_tcp", IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=80, dport=50000, seq=7, ack=9, flags="PA", window=501) / (b"a" * 101))
        out("icmpv6_echo", IPv6(src="fd00:9::1", dst="fd00:9::2") / ICMPv6EchoRequest(id=0xbeef, seq=3, data=b"ping-data"))
        out("icmpv6_ns", IPv6(src="fd00:9::1", dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt="fd00:9::2") / ICMPv6NDOptSrcLLAddr(lladdr="02:11:22:33:44:55"))
        out("icmpv6_hbh", IPv6(src="fd00:9::1", dst="fd00:9::2") / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(id=1, seq=2))
        out("ether_vlan_icmp", Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=100, prio=3) / IP(src="10.9.0.1", dst="10.9.0.2") / ICMP(id=77, seq=5) / b"payload")
        out("ether_arp", Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:00:00:00:00:01", psrc="10.9.0.1", pdst="10.9.0.2"))
        """;

    private static readonly Lazy<Task<Dictionary<string, byte[]>>> s_packets = new(LoadAsync);

    public static async Task<byte[]> GetAsync(string name)
    {
        if (!File.Exists(Python))
        {
            Unmet($"needs {Python} with scapy (apt-get install python3-scapy)");
        }

        var probe = await ProcessRunner.RunAsync(Python, ["-c", "import scapy"], TimeSpan.FromSeconds(60));
        if (probe.ExitCode != 0)
        {
            Unmet("needs the python3 scapy module (apt-get install python3-scapy)");
        }

        var packets = await s_packets.Value;
        return packets[name];
    }

    private static async Task<Dictionary<string, byte[]>> LoadAsync()
    {
        var result = (await ProcessRunner.RunAsync(Python, ["-c", Script], TimeSpan.FromSeconds(120))).EnsureSuccess();
        var packets = new Dictionary<string, byte[]>();
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            packets[parts[0]] = Convert.FromHexString(parts[1]);
        }

        return packets;
    }

    private static void Unmet(string reason)
    {
        if (Requires.UnderCi)
        {
            Assert.Fail($"precondition unmet under CI=true (a skip would hide it): {reason}");
        }

        Assert.Skip(reason);
    }
}
