using System.Text.Json;
using TunTap.TestKit;

namespace TunTap.IntegrationTests.Devices;

/// <summary>What <c>ip -d -j link show</c> says about a link: an independent view of the device.</summary>
internal sealed record LinkProbe(string Name, IReadOnlyList<string> Flags, JsonElement InfoData, string Kind)
{
    public static async Task<LinkProbe?> ShowAsync(string netns, string device)
    {
        var result = await ProcessRunner.RunAsync("ip", ["-n", netns, "-d", "-j", "link", "show", "dev", device]);
        if (result.ExitCode != 0)
        {
            return null;
        }

        using var json = JsonDocument.Parse(result.StandardOutput);
        var link = json.RootElement[0];
        var flags = new List<string>();
        foreach (var flag in link.GetProperty("flags").EnumerateArray())
        {
            flags.Add(flag.GetString()!);
        }

        var kind = "";
        var data = default(JsonElement);
        if (link.TryGetProperty("linkinfo", out var info))
        {
            kind = info.GetProperty("info_kind").GetString()!;
            if (info.TryGetProperty("info_data", out var d))
            {
                data = d.Clone();
            }
        }

        return new LinkProbe(link.GetProperty("ifname").GetString()!, flags, data, kind);
    }

    public static async Task<LinkProbe> RequireAsync(string netns, string device) =>
        await ShowAsync(netns, device) ?? throw new InvalidOperationException($"link {device} not found in {netns}");

    public string Type => InfoData.GetProperty("type").GetString()!;

    public bool Bool(string field) => InfoData.GetProperty(field).GetBoolean();

    public int Int(string field) => InfoData.GetProperty(field).GetInt32();

    /// <summary>user/group: ip prints a name when it has one, else the number.</summary>
    public string Text(string field)
    {
        var value = InfoData.GetProperty(field);
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
    }
}
