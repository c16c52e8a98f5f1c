using System.Net;
using TunTap.WireGuard;

namespace TunTap.Tests.WireGuard;

public sealed class UdpGsoRunTests
{
    private static readonly SocketAddress Peer = new IPEndPoint(IPAddress.Loopback, 1000).Serialize();
    private static readonly SocketAddress SamePeer = new IPEndPoint(IPAddress.Loopback, 1000).Serialize();
    private static readonly SocketAddress Other = new IPEndPoint(IPAddress.Loopback, 2000).Serialize();

    private static UdpSendBatch Batch(params (int Length, SocketAddress Remote)[] datagrams)
    {
        var buffer = new byte[100_000];
        var batch = new UdpSendBatch(200);
        var offset = 0;
        foreach (var (length, remote) in datagrams)
        {
            batch.Add(buffer, offset, length, remote);
            offset += length;
        }

        return batch;
    }

    [Fact]
    public void Equal_datagrams_to_one_peer_form_one_run_ended_by_a_shorter_one()
    {
        var batch = Batch((1452, Peer), (1452, SamePeer), (1452, Peer), (700, Peer), (1452, Peer));
        Assert.Equal(4, UdpGsoRun.Length(batch, 0));
        Assert.Equal(1, UdpGsoRun.Length(batch, 4));
    }

    [Fact]
    public void A_longer_datagram_or_another_destination_starts_a_new_run()
    {
        var batch = Batch((1000, Peer), (1000, Peer), (1200, Peer), (1200, Other), (1200, Other));
        Assert.Equal(2, UdpGsoRun.Length(batch, 0));
        Assert.Equal(1, UdpGsoRun.Length(batch, 2));
        Assert.Equal(2, UdpGsoRun.Length(batch, 3));
    }

    [Fact]
    public void Runs_stop_at_the_segment_and_byte_limits()
    {
        var small = Batch([.. Enumerable.Repeat((100, Peer), 150)]);
        Assert.Equal(UdpGsoRun.MaxSegments, UdpGsoRun.Length(small, 0));
        Assert.Equal(150 - (2 * UdpGsoRun.MaxSegments), UdpGsoRun.Length(small, 2 * UdpGsoRun.MaxSegments));

        var large = Batch([.. Enumerable.Repeat((1452, Peer), 60)]);
        Assert.Equal(UdpGsoRun.MaxBytes / 1452, UdpGsoRun.Length(large, 0));
    }

    [Fact]
    public void Empty_datagrams_are_never_merged()
    {
        var batch = Batch((0, Peer), (0, Peer), (32, Peer), (0, Peer));
        Assert.Equal(1, UdpGsoRun.Length(batch, 0));
        Assert.Equal(1, UdpGsoRun.Length(batch, 2));
    }
}
