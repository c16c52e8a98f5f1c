using System.Net;
using System.Net.Sockets;

namespace TunTap.WireGuard.Routing;

/// <summary>
/// WireGuard's cryptokey routing table: IPv4 and IPv6 prefixes mapped to peers, with
/// longest-prefix match. A path-compressed binary trie per family: a node holds a prefix and
/// branches on the first bit after it, so a lookup visits at most one node per distinct prefix
/// length on the path. Lookups allocate nothing. Not thread-safe: writers must be serialised with
/// readers by the owner (configuration changes are rare; the device swaps or locks).
/// </summary>
/// <typeparam name="TPeer">The peer type.</typeparam>
public sealed class AllowedIpsTrie<TPeer>
    where TPeer : class
{
    private Node? _ipv4;
    private Node? _ipv6;

    /// <summary>Number of prefixes stored.</summary>
    public int Count { get; private set; }

    /// <summary>Maps the prefix <paramref name="address"/>/<paramref name="prefixLength"/> to <paramref name="peer"/>, replacing any previous peer for it. Host bits are ignored.</summary>
    public void Insert(IPAddress address, int prefixLength, TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(peer);
        Span<byte> bytes = stackalloc byte[16];
        var length = Bytes(address, bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, length * 8);
        var key = bytes[..length].ToArray();
        Mask(key, prefixLength);
        ref var root = ref Root(length);
        root = Insert(root, key, prefixLength, peer);
    }

    /// <summary>Removes the exact prefix; false when it was not present.</summary>
    public bool Remove(IPAddress address, int prefixLength)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        var length = Bytes(address, bytes);
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, length * 8);
        var key = bytes[..length].ToArray();
        Mask(key, prefixLength);
        ref var root = ref Root(length);
        var removed = false;
        root = Remove(root, key, prefixLength, ref removed);
        if (removed)
        {
            Count--;
        }

        return removed;
    }

    /// <summary>Removes every prefix of <paramref name="peer"/>; returns how many.</summary>
    public int RemoveByPeer(TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var removed = 0;
        _ipv4 = RemoveByPeer(_ipv4, peer, ref removed);
        _ipv6 = RemoveByPeer(_ipv6, peer, ref removed);
        Count -= removed;
        return removed;
    }

    /// <summary>The peer of the longest prefix containing <paramref name="address"/> (4 or 16 bytes), or null.</summary>
    public TPeer? Lookup(ReadOnlySpan<byte> address)
    {
        var node = address.Length switch
        {
            4 => _ipv4,
            16 => _ipv6,
            _ => null,
        };
        TPeer? best = null;
        while (node is not null && Matches(node.Key, address, node.PrefixLength))
        {
            if (node.Peer is not null)
            {
                best = node.Peer;
            }

            if (node.PrefixLength == address.Length * 8)
            {
                break;
            }

            node = node.Child(Bit(address, node.PrefixLength));
        }

        return best;
    }

    /// <summary>The peer of the longest prefix containing <paramref name="address"/>, or null.</summary>
    public TPeer? Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        var length = Bytes(address, bytes);
        return Lookup(bytes[..length]);
    }

    /// <summary>The prefixes of <paramref name="peer"/>, IPv4 first, each family in address order.</summary>
    public IReadOnlyList<IPNetwork> GetPrefixes(TPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var list = new List<IPNetwork>();
        Collect(_ipv4, peer, list);
        Collect(_ipv6, peer, list);
        return list;
    }

    /// <summary>Removes everything.</summary>
    public void Clear()
    {
        _ipv4 = null;
        _ipv6 = null;
        Count = 0;
    }

    private ref Node? Root(int length) => ref length == 4 ? ref _ipv4 : ref _ipv6;

    private Node Insert(Node? node, byte[] key, int prefixLength, TPeer peer)
    {
        if (node is null)
        {
            Count++;
            return new Node(key, prefixLength, peer);
        }

        var common = CommonPrefix(node.Key, key, Math.Min(node.PrefixLength, prefixLength));
        if (common < node.PrefixLength)
        {
            // The new prefix leaves this node's path: it becomes the parent, or a fork parents both.
            Count++;
            var fresh = new Node(key, prefixLength, peer);
            if (common == prefixLength)
            {
                fresh.SetChild(Bit(node.Key, prefixLength), node);
                return fresh;
            }

            var forkKey = (byte[])key.Clone();
            Mask(forkKey, common);
            var fork = new Node(forkKey, common, null);
            fork.SetChild(Bit(node.Key, common), node);
            fork.SetChild(Bit(key, common), fresh);
            return fork;
        }

        if (node.PrefixLength == prefixLength)
        {
            if (node.Peer is null)
            {
                Count++;
            }

            node.Peer = peer;
            return node;
        }

        var bit = Bit(key, node.PrefixLength);
        node.SetChild(bit, Insert(node.Child(bit), key, prefixLength, peer));
        return node;
    }

    private static Node? Remove(Node? node, byte[] key, int prefixLength, ref bool removed)
    {
        if (node is null || node.PrefixLength > prefixLength || !Matches(node.Key, key, node.PrefixLength))
        {
            return node;
        }

        if (node.PrefixLength == prefixLength)
        {
            removed = node.Peer is not null;
            node.Peer = null;
            return Compact(node);
        }

        var bit = Bit(key, node.PrefixLength);
        node.SetChild(bit, Remove(node.Child(bit), key, prefixLength, ref removed));
        return Compact(node);
    }

    private static Node? RemoveByPeer(Node? node, TPeer peer, ref int removed)
    {
        if (node is null)
        {
            return null;
        }

        node.SetChild(0, RemoveByPeer(node.Child(0), peer, ref removed));
        node.SetChild(1, RemoveByPeer(node.Child(1), peer, ref removed));
        if (ReferenceEquals(node.Peer, peer))
        {
            node.Peer = null;
            removed++;
        }

        return Compact(node);
    }

    // A node without a peer only exists to fork two subtrees.
    private static Node? Compact(Node node)
    {
        if (node.Peer is not null)
        {
            return node;
        }

        var zero = node.Child(0);
        var one = node.Child(1);
        if (zero is not null && one is not null)
        {
            return node;
        }

        return zero ?? one;
    }

    private static void Collect(Node? node, TPeer peer, List<IPNetwork> list)
    {
        if (node is null)
        {
            return;
        }

        if (ReferenceEquals(node.Peer, peer))
        {
            list.Add(new IPNetwork(new IPAddress(node.Key), node.PrefixLength));
        }

        Collect(node.Child(0), peer, list);
        Collect(node.Child(1), peer, list);
    }

    private static int Bytes(IPAddress address, Span<byte> destination)
    {
        if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("allowed IPs are IPv4 or IPv6 addresses", nameof(address));
        }

        address.TryWriteBytes(destination, out var written);
        return written;
    }

    private static int Bit(ReadOnlySpan<byte> key, int index) => (key[index >> 3] >> (7 - (index & 7))) & 1;

    private static bool Matches(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> address, int prefixLength) =>
        CommonPrefix(prefix, address, prefixLength) >= prefixLength;

    private static int CommonPrefix(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int limit)
    {
        var full = limit >> 3;
        var same = a[..full].CommonPrefixLength(b[..full]);
        if (same < full)
        {
            return (same * 8) + System.Numerics.BitOperations.LeadingZeroCount((uint)(a[same] ^ b[same])) - 24;
        }

        var rest = limit & 7;
        if (rest == 0)
        {
            return limit;
        }

        var differing = (a[full] ^ b[full]) & (0xff00 >> rest);
        return differing == 0 ? limit : (full * 8) + System.Numerics.BitOperations.LeadingZeroCount((uint)differing) - 24;
    }

    private static void Mask(byte[] key, int prefixLength)
    {
        for (var i = 0; i < key.Length; i++)
        {
            var keep = Math.Clamp(prefixLength - (i * 8), 0, 8);
            key[i] &= (byte)(0xff00 >> keep);
        }
    }

    private sealed class Node(byte[] key, int prefixLength, TPeer? peer)
    {
        private Node? _zero;
        private Node? _one;

        public byte[] Key { get; } = key;

        public int PrefixLength { get; } = prefixLength;

        public TPeer? Peer { get; set; } = peer;

        public Node? Child(int bit) => bit == 0 ? _zero : _one;

        public void SetChild(int bit, Node? child)
        {
            if (bit == 0)
            {
                _zero = child;
            }
            else
            {
                _one = child;
            }
        }
    }
}
