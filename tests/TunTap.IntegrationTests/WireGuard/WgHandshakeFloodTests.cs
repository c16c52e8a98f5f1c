using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TunTap.Netlink;
using TunTap.TestKit;
using TunTap.WireGuard;
using TunTap.WireGuard.Messages;
using TunTap.WireGuard.Noise;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// A flood of handshake initiations at our <c>tuntap wg</c> (namespace A) while it has a live
/// session with another <c>tuntap wg</c> (namespace B). The initiations are well formed (built by
/// our Noise code, correct MAC1) but come from strangers, so each one costs the responder
/// Diffie-Hellman work until it is "under load"; then it answers with cookie replies instead. The
/// replies authenticate, the process's CPU use stays bounded, and the session keeps working.
/// (Replayed transport messages and garbage datagrams: see <see cref="WgUnderlayTests"/>.)
/// </summary>
public sealed class WgHandshakeFloodTests
{
    private const int DistinctInitiations = 64;
    private const int InitiationsPerSecond = 5000;
    private static readonly TimeSpan FloodLength = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Initiation_flood_gets_cookie_replies_bounded_cpu_and_the_session_survives()
    {
        Requires.Root();
        Requires.Tool("wg");
        await using var pair = await WgPair.StartAsync("wgfl", peerIsWireGuardGo: false);
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);

        // Initiations from strangers, each with its own cookie generator to open the reply with.
        var target = pair.KeyA.DerivePublicKey();
        var initiations = new byte[DistinctInitiations][];
        var senders = new Dictionary<uint, (CookieGenerator, byte[])>();
        for (var i = 0; i < DistinctInitiations; i++)
        {
            var stranger = new NoiseIdentity(WireGuardKey.GeneratePrivateKey());
            var message = new byte[HandshakeInitiationMessage.Size];
            var index = (uint)(0x5000 + i);
            Assert.Equal(HandshakeError.None, NoiseHandshake.CreateInitiation(new HandshakeState(stranger, target), index, DateTimeOffset.UtcNow, RandomNumberGenerator.Fill, message));
            var generator = new CookieGenerator(target, TimeProvider.System);
            generator.AddMacs(message);
            senders[index] = (generator, message);
            initiations[i] = message;
        }

        using var socket = NetworkNamespace.Run(pair.B, () =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Any, 0));
            return s;
        });
        var destination = new IPEndPoint(IPAddress.Parse(WgPair.UnderlayA), WgPair.PortA);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var replies = new ReplyCount();
        var receiving = CountCookieRepliesAsync(socket, senders, replies, stop.Token);

        var cpuBefore = CpuSeconds(pair.ProcessA.Id);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ping = ProcessRunner.RunInAsync(pair.B, "ping", ["-c", "10", "-i", "0.3", "-W", "3", WgPair.OverlayA], TimeSpan.FromSeconds(60));
        long sent = 0;
        while (clock.Elapsed < FloodLength)
        {
            // Paced by the clock, catching up after slow wake-ups: the rate stays well above the
            // 1,000 handshakes a second that count as load however coarse the sleeps get.
            var due = (long)(clock.Elapsed.TotalSeconds * InitiationsPerSecond);
            while (sent < due)
            {
                await socket.SendToAsync(initiations[sent++ % DistinctInitiations], SocketFlags.None, destination, TestContext.Current.CancellationToken);
            }

            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        var cpuSeconds = CpuSeconds(pair.ProcessA.Id) - cpuBefore;
        var wallSeconds = clock.Elapsed.TotalSeconds;
        var duringFlood = await ping;

        await Wait.UntilAsync(() => WgPair.Counter(pair.ProcessA, "cookie-replies-sent") > 0, WgPair.Patience, pair.ProcessA.Describe);
        await Wait.UntilAsync(() => Volatile.Read(ref replies.Valid) > 0, WgPair.Patience, () => "no cookie reply reached the flooder");
        await stop.CancelAsync();
        await receiving;
        var (valid, invalid) = (replies.Valid, replies.Invalid);

        TestContext.Current.TestOutputHelper?.WriteLine($"{sent} initiations in {wallSeconds:F1} s; {valid} cookie replies; tuntap wg CPU {cpuSeconds:F2} s; ping: {duringFlood.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("received", StringComparison.Ordinal))}");
        Assert.True(valid > 0, $"valid cookie replies {valid}, invalid {invalid}, initiations sent {sent}");
        Assert.Equal(0, invalid);
        Assert.True(cpuSeconds / wallSeconds < 1.5, $"tuntap wg used {cpuSeconds:F2} s of CPU in {wallSeconds:F2} s under {sent} initiations");
        Assert.True(duringFlood.ExitCode == 0, $"no echo answered during the flood:\n{duringFlood.StandardOutput}\n{pair.ProcessA.Describe()}");
        Assert.False(pair.ProcessA.HasExited, pair.ProcessA.Describe());

        // The flood changed nothing for the real peer.
        await pair.AssertPingAsync(pair.B, WgPair.OverlayA);
        await pair.AssertPingAsync(pair.A, WgPair.OverlayB);
        Assert.Equal(1, WgPair.Counter(pair.ProcessA, "peers"));
    }

    // Receives until cancelled; a reply counts as valid when the generator of the initiation it
    // names opens it (so it was sealed for that initiation's MAC1 by the holder of A's key).
    // Opening a reply disarms a generator, so it is re-armed with its initiation after each one.
    private static async Task CountCookieRepliesAsync(Socket socket, Dictionary<uint, (CookieGenerator Generator, byte[] Initiation)> senders, ReplyCount count, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        var scratch = new byte[HandshakeInitiationMessage.Size];
        try
        {
            while (true)
            {
                var length = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                var index = length == CookieReplyMessage.Size ? BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(CookieReplyMessage.Field.ReceiverIndex)) : 0;
                if (MessageHeader.ReadType(buffer.AsSpan(0, length)) == MessageType.CookieReply &&
                    senders.TryGetValue(index, out var sender) &&
                    sender.Generator.ConsumeReply(buffer.AsSpan(0, length)))
                {
                    Interlocked.Increment(ref count.Valid);
                    sender.Initiation.CopyTo(scratch, 0);
                    sender.Generator.AddMacs(scratch);
                }
                else
                {
                    Interlocked.Increment(ref count.Invalid);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed class ReplyCount
    {
        public int Valid;
        public int Invalid;
    }

    // utime + stime of a process, from /proc/PID/stat (clock ticks of 1/100 s).
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
