using System.Security.Cryptography;

namespace TunTap.TestKit;

/// <summary>
/// Network namespaces that exist for one test. Names are <c>tt-PREFIX-RANDOM</c> so parallel
/// tests and leftovers are told apart; disposing kills every process in them and deletes them,
/// also when the test failed. Created with <c>ip netns add</c> on purpose: the test kit must not
/// depend on the code under test to clean up after it.
/// </summary>
public sealed class NetnsScope : IAsyncDisposable
{
    private readonly List<string> _names = [];

    private NetnsScope(string prefix)
    {
        Prefix = prefix;
    }

    /// <summary>The prefix given at creation.</summary>
    public string Prefix { get; }

    /// <summary>The namespaces created so far.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Creates a scope with <paramref name="count"/> fresh namespaces.</summary>
    public static async Task<NetnsScope> CreateAsync(string prefix, int count = 1)
    {
        Requires.Root();
        var scope = new NetnsScope(prefix);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await scope.AddAsync().ConfigureAwait(false);
            }
        }
        catch
        {
            await scope.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return scope;
    }

    /// <summary>A fresh unique name with this scope's prefix (not yet created).</summary>
    public string NewName() => $"tt-{Prefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>Creates one more namespace (with loopback up) and returns its name.</summary>
    public async Task<string> AddAsync()
    {
        var name = NewName();
        _names.Add(name);
        (await ProcessRunner.RunAsync("ip", ["netns", "add", name]).ConfigureAwait(false)).EnsureSuccess();
        (await ProcessRunner.RunInAsync(name, "ip", ["link", "set", "lo", "up"]).ConfigureAwait(false)).EnsureSuccess();
        return name;
    }

    /// <summary>Adopts a namespace created by the code under test so it is removed with the scope.</summary>
    public void Adopt(string name) => _names.Add(name);

    /// <summary>Connects two namespaces of this scope with a veth pair and addresses both ends.</summary>
    public async Task ConnectAsync(string a, string aAddress, string b, string bAddress, string aIf = "veth0", string bIf = "veth1")
    {
        if (!_names.Contains(a) || !_names.Contains(b))
        {
            throw new ArgumentException("both namespaces must belong to this scope, so the veth pair is removed with it");
        }

        (await ProcessRunner.RunAsync("ip", ["link", "add", aIf, "netns", a, "type", "veth", "peer", "name", bIf, "netns", b]).ConfigureAwait(false)).EnsureSuccess();
        (await ProcessRunner.RunInAsync(a, "ip", ["addr", "add", aAddress, "dev", aIf]).ConfigureAwait(false)).EnsureSuccess();
        (await ProcessRunner.RunInAsync(b, "ip", ["addr", "add", bAddress, "dev", bIf]).ConfigureAwait(false)).EnsureSuccess();
        (await ProcessRunner.RunInAsync(a, "ip", ["link", "set", aIf, "up"]).ConfigureAwait(false)).EnsureSuccess();
        (await ProcessRunner.RunInAsync(b, "ip", ["link", "set", bIf, "up"]).ConfigureAwait(false)).EnsureSuccess();
    }

    /// <summary>Runs a command in namespace <paramref name="netns"/>.</summary>
    public static Task<ProcessResult> ExecAsync(string netns, string file, params string[] args) =>
        ProcessRunner.RunInAsync(netns, file, args);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var name in _names)
        {
            if (!File.Exists($"/run/netns/{name}"))
            {
                continue;
            }

            var pids = await ProcessRunner.RunAsync("ip", ["netns", "pids", name], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            foreach (var pid in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(pid, out var id))
                {
                    _ = Native.Kill(id, 9);
                }
            }

            // Deleting can race with processes still exiting; retry briefly.
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var result = await ProcessRunner.RunAsync("ip", ["netns", "delete", name], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                if (result.ExitCode == 0 || !File.Exists($"/run/netns/{name}"))
                {
                    break;
                }

                await Task.Delay(100).ConfigureAwait(false);
            }
        }
    }
}
