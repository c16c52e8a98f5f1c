using System.Net;
using CsCheck;
using TunTap.WireGuard.Routing;

namespace TunTap.Tests.WireGuard;

public sealed class AllowedIpsTrieTests
{
    private sealed class Peer(string name)
    {
        public override string ToString() => name;
    }

    private static readonly Peer[] Peers = [new("a"), new("b"), new("c"), new("d")];

    [Fact]
    public void Longest_prefix_wins_for_ipv4_and_ipv6()
    {
        var trie = new AllowedIpsTrie<Peer>();
        trie.Insert(IPAddress.Parse("0.0.0.0"), 0, Peers[0]);
        trie.Insert(IPAddress.Parse("10.0.0.0"), 8, Peers[1]);
        trie.Insert(IPAddress.Parse("10.1.2.0"), 24, Peers[2]);
        trie.Insert(IPAddress.Parse("10.1.2.3"), 32, Peers[3]);
        trie.Insert(IPAddress.Parse("fd00::"), 8, Peers[1]);
        trie.Insert(IPAddress.Parse("fd00::1"), 128, Peers[2]);

        Assert.Same(Peers[0], trie.Lookup(IPAddress.Parse("192.168.1.1")));
        Assert.Same(Peers[1], trie.Lookup(IPAddress.Parse("10.200.0.1")));
        Assert.Same(Peers[2], trie.Lookup(IPAddress.Parse("10.1.2.4")));
        Assert.Same(Peers[3], trie.Lookup(IPAddress.Parse("10.1.2.3")));
        Assert.Same(Peers[1], trie.Lookup(IPAddress.Parse("fd12::5")));
        Assert.Same(Peers[2], trie.Lookup(IPAddress.Parse("fd00::1")));
        Assert.Null(trie.Lookup(IPAddress.Parse("2001:db8::1")));
        Assert.Equal(6, trie.Count);
    }

    [Fact]
    public void Host_bits_are_ignored_and_reinsert_replaces_the_peer()
    {
        var trie = new AllowedIpsTrie<Peer>();
        trie.Insert(IPAddress.Parse("192.168.7.99"), 16, Peers[0]);
        trie.Insert(IPAddress.Parse("192.168.0.0"), 16, Peers[1]);
        Assert.Equal(1, trie.Count);
        Assert.Same(Peers[1], trie.Lookup(IPAddress.Parse("192.168.200.1")));
        Assert.Equal([IPNetwork.Parse("192.168.0.0/16")], trie.GetPrefixes(Peers[1]));
        Assert.Empty(trie.GetPrefixes(Peers[0]));
    }

    [Fact]
    public void Remove_by_peer_keeps_other_peers_routes()
    {
        var trie = new AllowedIpsTrie<Peer>();
        trie.Insert(IPAddress.Parse("10.0.0.0"), 8, Peers[0]);
        trie.Insert(IPAddress.Parse("10.1.0.0"), 16, Peers[1]);
        trie.Insert(IPAddress.Parse("10.1.1.0"), 24, Peers[0]);
        trie.Insert(IPAddress.Parse("::"), 0, Peers[0]);
        Assert.Equal(3, trie.RemoveByPeer(Peers[0]));
        Assert.Equal(1, trie.Count);
        Assert.Same(Peers[1], trie.Lookup(IPAddress.Parse("10.1.1.1")));
        Assert.Null(trie.Lookup(IPAddress.Parse("10.2.0.1")));
        Assert.Null(trie.Lookup(IPAddress.Parse("::1")));
    }

    [Fact]
    public void Lookup_allocates_nothing()
    {
        var trie = new AllowedIpsTrie<Peer>();
        trie.Insert(IPAddress.Parse("10.0.0.0"), 8, Peers[0]);
        trie.Insert(IPAddress.Parse("fd00::"), 64, Peers[1]);
        ReadOnlySpan<byte> v4 = [10, 1, 2, 3];
        var v6 = IPAddress.Parse("fd00::7").GetAddressBytes();
        trie.Lookup(v4);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            trie.Lookup(v4);
            trie.Lookup(v6);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private sealed record Operation(int Kind, byte[] Address, int PrefixLength, int Peer);

    // The reference: a flat list of (masked prefix, length, peer); longest matching prefix wins.
    private sealed class NaiveTable
    {
        private readonly Dictionary<(string Prefix, int Length), (byte[] Key, Peer Peer)> _entries = [];

        public int Count => _entries.Count;

        public void Insert(byte[] address, int length, Peer peer)
        {
            var key = Masked(address, length);
            _entries[(Convert.ToHexString(key), length)] = (key, peer);
        }

        public bool Remove(byte[] address, int length) => _entries.Remove((Convert.ToHexString(Masked(address, length)), length));

        public int RemoveByPeer(Peer peer)
        {
            var doomed = _entries.Where(e => e.Value.Peer == peer).Select(e => e.Key).ToList();
            doomed.ForEach(k => _entries.Remove(k));
            return doomed.Count;
        }

        public Peer? Lookup(byte[] address) => _entries
            .Where(e => e.Value.Key.Length == address.Length && Masked(address, e.Key.Length).SequenceEqual(e.Value.Key))
            .OrderByDescending(e => e.Key.Length)
            .Select(e => e.Value.Peer)
            .FirstOrDefault();

        public HashSet<string> Prefixes(Peer peer) => _entries
            .Where(e => e.Value.Peer == peer)
            .Select(e => $"{new IPAddress(e.Value.Key)}/{e.Key.Length}")
            .ToHashSet();

        private static byte[] Masked(byte[] address, int length)
        {
            var key = (byte[])address.Clone();
            for (var i = 0; i < key.Length; i++)
            {
                key[i] &= (byte)(0xff00 >> Math.Clamp(length - (i * 8), 0, 8));
            }

            return key;
        }
    }

    // Addresses from a small neighbourhood so prefixes overlap, nest and fork often.
    private static Gen<byte[]> Address(int size) =>
        Gen.Select(Gen.Int[0, 3], Gen.Byte.Array[size - 1]).Select((first, rest) => rest.Prepend((byte)(0x0a + (first * 0x40))).ToArray());

    private static Gen<Operation> OperationGen(int size) =>
        Gen.Select(Gen.Frequency((6, Gen.Const(0)), (2, Gen.Const(1)), (1, Gen.Const(2))), Address(size), Gen.Int[0, size * 8], Gen.Int[0, Peers.Length - 1])
            .Select((kind, address, length, peer) => new Operation(kind, address, length, peer));

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void Matches_a_naive_table_on_random_operations(int size)
    {
        Gen.Select(OperationGen(size).Array[1, 80], Address(size).Array[1, 40]).Sample((operations, probes) =>
        {
            var trie = new AllowedIpsTrie<Peer>();
            var naive = new NaiveTable();
            foreach (var op in operations)
            {
                switch (op.Kind)
                {
                    case 0:
                        trie.Insert(new IPAddress(op.Address), op.PrefixLength, Peers[op.Peer]);
                        naive.Insert(op.Address, op.PrefixLength, Peers[op.Peer]);
                        break;
                    case 1:
                        Assert.Equal(naive.Remove(op.Address, op.PrefixLength), trie.Remove(new IPAddress(op.Address), op.PrefixLength));
                        break;
                    default:
                        Assert.Equal(naive.RemoveByPeer(Peers[op.Peer]), trie.RemoveByPeer(Peers[op.Peer]));
                        break;
                }

                Assert.Equal(naive.Count, trie.Count);
            }

            foreach (var probe in probes.Concat(operations.Select(o => o.Address)))
            {
                Assert.Same(naive.Lookup(probe), trie.Lookup(probe));
            }

            foreach (var peer in Peers)
            {
                Assert.Equal(naive.Prefixes(peer), trie.GetPrefixes(peer).Select(n => n.ToString()).ToHashSet());
            }
        }, iter: 400);
    }
}
