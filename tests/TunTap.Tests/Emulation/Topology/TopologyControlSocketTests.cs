using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using TunTap.Devices;
using TunTap.Emulation;
using TunTap.Emulation.Topology;
using TunTap.TestKit;

namespace TunTap.Tests.Emulation.Topology;

/// <summary>The control socket end to end (in a temporary directory, no root) and a live change through a running pump on a fake clock.</summary>
public sealed class TopologyControlSocketTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-emuctl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Packet(int id)
    {
        var packet = new byte[60];
        packet[0] = 0x45;
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), id);
        return packet;
    }

    private static int IdOf(byte[] packet) => BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(4));

    [Fact]
    public async Task A_client_sets_a_model_reads_status_and_stops_the_emulation_over_the_socket()
    {
        var (a, b) = (new ChannelTun("a", DeviceMode.Tun), new ChannelTun("b", DeviceMode.Tun));
        using var link = new EmulatedLink(a, b, LinkModel.Create(new LinkModelOptions(), TimeProvider.System, 1), LinkModel.Create(new LinkModelOptions(), TimeProvider.System, 2));
        var controlled = new ControlledLink("l1", "x", "y", link, "", "", 1);
        using var stopped = new ManualResetEventSlim();
        var path = EmulationControlServer.SocketPathFor("lab", _directory);
        Assert.Equal(Path.Combine(_directory, "emulate-lab.sock"), path);
        var server = EmulationControlServer.Listen(path, new EmulationControlHandler("lab", [controlled], stopped.Set));
        await using (server)
        {
            Assert.True(EmulationControlServer.IsListening(path));
            Assert.Equal(["lab"], EmulationControlServer.ListRunning(_directory));
            Assert.Equal("lab", EmulationControlClient.Resolve(null, _directory));

            using (var reply = await EmulationControlClient.RequestAsync("lab", "set l1 b2a delay 30ms", path, TestContext.Current.CancellationToken))
            {
                Assert.Equal("delay 30ms", reply.RootElement.GetProperty("b2a").GetString());
            }

            Assert.Equal("delay 30ms", controlled.SpecBToA);
            var error = await Assert.ThrowsAsync<TunTapException>(() => EmulationControlClient.RequestAsync("lab", "set l1 b2a delay soon", path, TestContext.Current.CancellationToken));
            Assert.StartsWith("emulation lab: 'soon' after 'delay' is not a time", error.Message, StringComparison.Ordinal);

            using (await EmulationControlClient.RequestAsync("lab", "stop", path, TestContext.Current.CancellationToken))
            {
                Assert.True(stopped.Wait(Patience, TestContext.Current.CancellationToken));
            }

            // A second emulation of the same name is refused while the first listens.
            var taken = Assert.Throws<TunTapException>(() => EmulationControlServer.Listen(path, new EmulationControlHandler("lab", [controlled], () => { })));
            Assert.Contains("already running", taken.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path));
        var gone = await Assert.ThrowsAsync<TunTapException>(() => EmulationControlClient.RequestAsync("lab", "status", path, TestContext.Current.CancellationToken));
        Assert.StartsWith("no emulation named lab is running", gone.Message, StringComparison.Ordinal);
        Assert.Throws<TunTapException>(() => EmulationControlClient.Resolve(null, _directory));
    }

    [Fact]
    public async Task A_packet_in_flight_keeps_its_delay_when_a_running_link_is_changed()
    {
        var time = new FakeTimeProvider();
        var (a, b) = (new ChannelTun("a", DeviceMode.Tun), new ChannelTun("b", DeviceMode.Tun));
        using var link = new EmulatedLink(a, b, LinkModel.Create(LinkSpecParser.Parse("delay 50ms"), time, 1), LinkModel.Create(new LinkModelOptions(), time, 2), new EmulatedLinkOptions { TimeProvider = time });
        using var stop = new CancellationTokenSource();
        var run = link.RunAsync(stop.Token);

        a.Inject(Packet(1));
        await Wait.UntilAsync(() => link.AToB.Counters.ReadPackets == 1, Patience);
        link.AToB.Reconfigure(LinkSpecParser.Parse("delay 10ms"), 3);
        a.Inject(Packet(2));
        await Wait.UntilAsync(() => link.AToB.Counters.ReadPackets == 2, Patience);

        time.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(2, IdOf(await b.ReadWrittenAsync(Patience)));
        time.Advance(TimeSpan.FromMilliseconds(39));
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.Equal(1, b.WrittenPackets);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, IdOf(await b.ReadWrittenAsync(Patience)));
        link.AToB.ReadModelCounters(counters =>
        {
            Assert.Equal(2, counters.Delivered);
            Assert.Equal(0, counters.InFlightPackets);
        });

        await stop.CancelAsync();
        await run.WaitAsync(Patience, TestContext.Current.CancellationToken);
    }
}
