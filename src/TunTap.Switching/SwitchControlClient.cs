using System.Text.Json;
using TunTap.Services;

namespace TunTap.Switching;

/// <summary>Sends one request to a running switch's control socket (see <see cref="SwitchControlServer"/>).</summary>
public static class SwitchControlClient
{
    /// <summary>
    /// Sends <paramref name="request"/> to the switch <paramref name="switchName"/> and returns its
    /// JSON response (<c>"ok": true</c>; the caller disposes it).
    /// </summary>
    /// <param name="switchName">The switch's name, as given to <c>tuntap switch run</c>.</param>
    /// <param name="request">What to ask.</param>
    /// <param name="socketPath">The control socket; by default <see cref="SwitchControlServer.SocketPathFor"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="TunTapException">No such switch is running, we may not talk to it, or it answered with an error (its message and hint).</exception>
    public static Task<JsonDocument> RequestAsync(string switchName, SwitchControlRequest request, string? socketPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = socketPath ?? SwitchControlServer.SocketPathFor(switchName);
        return ControlSocketClient.RequestAsync($"switch {switchName}", path, request.Format(), () => NotRunning(switchName, path), cancellationToken);
    }

    private static TunTapException NotRunning(string switchName, string path)
    {
        var running = SwitchControlServer.ListRunning(Path.GetDirectoryName(path) ?? SwitchControlServer.RunDirectory);
        var hint = running.Count == 0 ? "no switch is running" : $"running: {string.Join(", ", running)}";
        return new TunTapException($"no switch named {switchName} is running; start it with 'tuntap switch run {switchName} ...'", hint);
    }
}
