using System.Reflection;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.WireGuard;

/// <summary><c>tuntap wg genkey|pubkey|genpsk</c> against the real <c>wg</c> tool.</summary>
public sealed class WgKeyCommandTests
{
    private static readonly string Tuntap = typeof(WgKeyCommandTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "TuntapDll").Value!;

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static Task<ProcessResult> RunTuntapAsync(string? stdin, params string[] args) =>
        ProcessRunner.RunAsync(Dotnet, [Tuntap, .. args], TimeSpan.FromSeconds(60), stdin: stdin);

    [Fact]
    public async Task Genkey_and_pubkey_agree_with_wg_in_both_directions()
    {
        Requires.Tool("wg");
        var ours = await RunTuntapAsync(null, "wg", "genkey");
        Assert.Equal(0, ours.ExitCode);
        var key = ours.StandardOutput.Trim();
        Assert.Equal(44, key.Length);
        var bytes = Convert.FromBase64String(key);
        Assert.Equal(0, bytes[0] & 7);
        Assert.Equal(64, bytes[31] & 0xc0);

        var theirPub = await ProcessRunner.RunAsync("wg", ["pubkey"], stdin: key + "\n");
        var ourPub = await RunTuntapAsync(key + "\n", "wg", "pubkey");
        Assert.Equal(0, ourPub.ExitCode);
        Assert.Equal(theirPub.StandardOutput.Trim(), ourPub.StandardOutput.Trim());

        var theirKey = (await ProcessRunner.RunAsync("wg", ["genkey"])).StandardOutput.Trim();
        var expected = await ProcessRunner.RunAsync("wg", ["pubkey"], stdin: theirKey + "\n");
        var actual = await RunTuntapAsync(theirKey + "\n", "wg", "pubkey");
        Assert.Equal(expected.StandardOutput.Trim(), actual.StandardOutput.Trim());
    }

    [Fact]
    public async Task Genpsk_prints_32_random_bytes_in_base64()
    {
        var first = (await RunTuntapAsync(null, "wg", "genpsk")).StandardOutput.Trim();
        var second = (await RunTuntapAsync(null, "wg", "genpsk")).StandardOutput.Trim();
        Assert.Equal(32, Convert.FromBase64String(first).Length);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task Pubkey_rejects_a_malformed_key_with_one_clear_line()
    {
        var result = await RunTuntapAsync("not a key\n", "wg", "pubkey");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("tuntap: error: the private key on stdin is not 44 characters of base64", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
    }
}
