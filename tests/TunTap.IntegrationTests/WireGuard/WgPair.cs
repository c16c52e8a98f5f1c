using System.Globalization;
using System.Text.RegularExpressions;
using TunTap.IntegrationTests.Cli;
using TunTap.TestKit;
using TunTap.WireGuard;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary>
/// Two WireGuard interfaces in two namespaces joined by a veth underlay: <c>tuntap wg -f</c> in
/// namespace A (192.168.77.1, port 51820, overlay 10.9.0.1) and either another <c>tuntap wg</c> or
/// wireguard-go in namespace B (192.168.77.2, port 51821, overlay 10.9.0.2), both configured by the
/// real <c>wg</c>. Disposal stops both, removes their sockets, key files and the namespaces.
/// </summary>
internal sealed partial class WgPair : IAsyncDisposable
{
    public const string OverlayA = "10.9.0.1";
    public const string OverlayB = "10.9.0.2";
    public const string UnderlayA = "192.168.77.1";
    public const string UnderlayB = "192.168.77.2";
    public const int PortA = 51820;
    public const int PortB = 51821;
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly NetnsScope _scope;
    private readonly DirectoryInfo _keys;

    private WgPair(NetnsScope scope, DirectoryInfo keys)
    {
        _scope = scope;
        _keys = keys;
        NameA = scope.NewName();
        NameB = scope.NewName();
    }

    public NetnsScope Scope => _scope;

    public string A => _scope.Names[0];

    public string B => _scope.Names[1];

    public string NameA { get; }

    public string NameB { get; }

    public WireGuardKey KeyA { get; } = WireGuardKey.GeneratePrivateKey();

    public WireGuardKey KeyB { get; } = WireGuardKey.GeneratePrivateKey();

    public BackgroundProcess ProcessA { get; private set; } = null!;

    public BackgroundProcess ProcessB { get; private set; } = null!;

    /// <summary>
    /// Creates the namespaces, starts both sides (extra arguments for our <c>tuntap wg</c> in A),
    /// configures them and brings the links up. With <paramref name="netnsOptionA"/> side A runs in
    /// this (the root) namespace with <c>--netns A</c> instead of under <c>ip netns exec</c>.
    /// </summary>
    public static async Task<WgPair> StartAsync(string prefix, bool peerIsWireGuardGo, string[]? extraArgsA = null, string[]? extraArgsB = null, string? persistentKeepaliveB = null, bool netnsOptionA = false)
    {
        var scope = await NetnsScope.CreateAsync(prefix, 2);
        var pair = new WgPair(scope, Directory.CreateTempSubdirectory("tt-wg-pair-"));
        try
        {
            await scope.ConnectAsync(pair.A, $"{UnderlayA}/24", pair.B, $"{UnderlayB}/24");
            pair.ProcessA = netnsOptionA
                ? ProcessRunner.StartBackground(TuntapCli.DotnetHost, [TuntapCli.Dll, "wg", "-f", "--stats-interval", "0.5", "--netns", pair.A, .. extraArgsA ?? [], pair.NameA])
                : StartOurs(pair.A, pair.NameA, extraArgsA ?? []);
            pair.ProcessB = peerIsWireGuardGo
                ? ProcessRunner.StartBackground("ip", ["netns", "exec", pair.B, "wireguard-go", pair.NameB], new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" })
                : StartOurs(pair.B, pair.NameB, extraArgsB ?? []);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(pair.A, "wg", "show", pair.NameA)).ExitCode == 0, Patience, pair.ProcessA.Describe);
            await Wait.UntilAsync(async () => (await NetnsScope.ExecAsync(pair.B, "wg", "show", pair.NameB)).ExitCode == 0, Patience, pair.ProcessB.Describe);
            await pair.ConfigureAsync(pair.A, pair.NameA, pair.KeyA, PortA, pair.KeyB, OverlayB, $"{UnderlayB}:{PortB}", OverlayA, null);
            await pair.ConfigureAsync(pair.B, pair.NameB, pair.KeyB, PortB, pair.KeyA, OverlayA, $"{UnderlayA}:{PortA}", OverlayB, persistentKeepaliveB);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>wg show IFNAME dump</c> on side A and returns the peer line's fields.</summary>
    public async Task<string[]> PeerDumpAAsync()
    {
        var dump = (await NetnsScope.ExecAsync(A, "wg", "show", NameA, "dump")).EnsureSuccess().StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return dump.Length > 1 ? dump[1].Split('\t') : [];
    }

    /// <summary>Pings from <paramref name="ns"/>; asserts every echo is answered.</summary>
    public async Task AssertPingAsync(string ns, string target, int count = 3)
    {
        var ping = await ProcessRunner.RunInAsync(ns, "ping", ["-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "3", target], TimeSpan.FromSeconds(60));
        Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains($"{count} received", StringComparison.Ordinal),
            $"ping {target} from {ns} failed:\n{ping.StandardOutput}\n{ping.StandardError}\nA: {ProcessA.Describe()}\nB: {ProcessB.Describe()}");
    }

    /// <summary>The last value of <c>label=N</c> in the periodic counter lines of <paramref name="process"/> (-1 if none yet).</summary>
    public static long Counter(BackgroundProcess process, string label) => CounterHistory(process, label) is { Count: > 0 } values ? values[^1] : -1;

    /// <summary>Every value of <c>label=N</c> printed so far, oldest first (one per counter line).</summary>
    public static List<long> CounterHistory(BackgroundProcess process, string label)
    {
        var values = new List<long>();
        foreach (Match match in CounterPattern().Matches(process.StandardOutput))
        {
            if (match.Groups[1].Value == label)
            {
                values.Add(long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
            }
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (ProcessA is not null)
            {
                await ProcessA.DisposeAsync();
            }

            if (ProcessB is not null)
            {
                await ProcessB.DisposeAsync();
            }
        }
        finally
        {
            File.Delete($"/var/run/wireguard/{NameA}.sock");
            File.Delete($"/var/run/wireguard/{NameB}.sock");
            _keys.Delete(recursive: true);
            await _scope.DisposeAsync();
        }
    }

    private static BackgroundProcess StartOurs(string netns, string name, string[] extraArgs) =>
        ProcessRunner.StartBackground("ip", ["netns", "exec", netns, TuntapCli.DotnetHost, TuntapCli.Dll, "wg", "-f", "--stats-interval", "0.5", .. extraArgs, name]);

    private async Task ConfigureAsync(string netns, string name, WireGuardKey key, int port, WireGuardKey peer, string peerOverlay, string peerEndpoint, string overlay, string? persistentKeepalive)
    {
        var keyFile = Path.Combine(_keys.FullName, $"{name}.key");
        await File.WriteAllTextAsync(keyFile, key.ToBase64() + "\n");
        string[] keepalive = persistentKeepalive is null ? [] : ["persistent-keepalive", persistentKeepalive];
        (await NetnsScope.ExecAsync(netns, "wg", ["set", name, "private-key", keyFile, "listen-port", port.ToString(CultureInfo.InvariantCulture),
            "peer", peer.DerivePublicKey().ToBase64(), "allowed-ips", $"{peerOverlay}/32", "endpoint", peerEndpoint, .. keepalive])).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "addr", "add", $"{overlay}/24", "dev", name)).EnsureSuccess();
        (await NetnsScope.ExecAsync(netns, "ip", "link", "set", name, "up")).EnsureSuccess();
    }

    [GeneratedRegex(@"([a-z-]+)=(\d+)")]
    private static partial Regex CounterPattern();
}
