using System.CommandLine;
using System.Text.Json;
using TunTap.Switching;

namespace TunTap.Cli.Commands;

/// <summary>The parts the <c>tuntap switch port|mac|stats</c> commands share: the NAME argument, <c>--json</c>, one request.</summary>
internal static class SwitchControlCall
{
    public static Argument<string> SwitchName() => new("NAME") { Description = "The running switch's name (as given to 'tuntap switch run')." };

    public static Option<bool> Json(string fields) => new("--json") { Description = $"Print the switch's JSON answer ({fields})." };

    /// <summary>Sends the request; prints the JSON as is when <paramref name="json"/>, else hands it to <paramref name="render"/>.</summary>
    public static async Task<int> RunAsync(string name, SwitchControlRequest request, bool json, Action<JsonElement> render, CancellationToken cancellationToken)
    {
        using var answer = await SwitchControlClient.RequestAsync(name, request, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (json)
        {
            Console.Out.WriteLine(answer.RootElement.GetRawText());
        }
        else
        {
            render(answer.RootElement);
        }

        return 0;
    }

    /// <summary>A JSON string or "-" for null.</summary>
    public static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

    /// <summary>One port as <c>ID NAME VLAN STATE</c> fields.</summary>
    public static string[] PortRow(JsonElement port)
    {
        var blocked = Text(port, "blocked");
        var failure = Text(port, "failure");
        var state = blocked != "-" ? $"blocked: {blocked}" : failure != "-" ? $"failed: {failure}" : "forwarding";
        return [port.GetProperty("id").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), Text(port, "name"), Text(port, "vlan"), state];
    }
}
