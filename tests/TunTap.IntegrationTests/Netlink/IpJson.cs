using System.Text.Json;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Netlink;

/// <summary>Asks iproute2 (the independent implementation) what the kernel holds, as JSON.</summary>
internal static class IpJson
{
    /// <summary>Runs <c>ip -n NS -j ARGS</c> and returns the parsed output (an array).</summary>
    public static async Task<JsonElement> QueryAsync(string netns, params string[] args)
    {
        var result = (await ProcessRunner.RunAsync("ip", ["-n", netns, "-j", .. args], TimeSpan.FromSeconds(20))).EnsureSuccess();
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(result.StandardOutput) ? "[]" : result.StandardOutput);
        return document.RootElement.Clone();
    }

    /// <summary>The object of link <paramref name="name"/> from <c>ip -d -j link show</c>, or null when it does not exist.</summary>
    public static async Task<JsonElement?> LinkAsync(string netns, string name)
    {
        var result = await ProcessRunner.RunAsync("ip", ["-n", netns, "-d", "-j", "link", "show", "dev", name], TimeSpan.FromSeconds(20));
        if (result.ExitCode != 0)
        {
            return null;
        }

        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.EnumerateArray().Single().Clone();
    }

    /// <summary>The names of every link in the namespace.</summary>
    public static async Task<List<string>> LinkNamesAsync(string netns)
    {
        var links = await QueryAsync(netns, "link", "show");
        return links.EnumerateArray().Select(l => l.GetProperty("ifname").GetString()!).ToList();
    }

    /// <summary>The flags list of a link object (UP, LOWER_UP, ...).</summary>
    public static List<string> Flags(JsonElement link) =>
        link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()!).ToList();

    /// <summary>The <c>local/prefixlen</c> addresses of a link from <c>ip -j addr show dev NAME</c>.</summary>
    public static async Task<List<string>> AddressesAsync(string netns, string name)
    {
        var links = await QueryAsync(netns, "addr", "show", "dev", name);
        return links.EnumerateArray()
            .SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
            .Select(a => $"{a.GetProperty("local").GetString()}/{a.GetProperty("prefixlen").GetInt32()}")
            .ToList();
    }

    /// <summary>Runs an <c>ip</c> command in the namespace and requires success.</summary>
    public static async Task RunAsync(string netns, params string[] args) =>
        (await ProcessRunner.RunAsync("ip", ["-n", netns, .. args], TimeSpan.FromSeconds(20))).EnsureSuccess();
}
