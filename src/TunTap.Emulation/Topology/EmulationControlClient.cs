using System.Text.Json;
using TunTap.Services;

namespace TunTap.Emulation.Topology;

/// <summary>Sends one request to a running emulation's control socket (see <see cref="EmulationControlServer"/>).</summary>
public static class EmulationControlClient
{
    /// <summary>
    /// The name of the emulation to talk to: <paramref name="name"/> when given, else the only one
    /// running (with a control socket in <paramref name="directory"/>).
    /// </summary>
    /// <exception cref="TunTapException">None or several are running and no name was given.</exception>
    public static string Resolve(string? name, string directory = EmulationControlServer.RunDirectory)
    {
        if (name is not null)
        {
            return name;
        }

        var running = EmulationControlServer.ListRunning(directory);
        return running.Count switch
        {
            1 => running[0],
            0 => throw new TunTapException("no emulation is running", "start one with 'tuntap emulate up FILE.toml' or 'tuntap emulate link --name NAME ...'"),
            _ => throw new TunTapException($"{running.Count} emulations are running ({string.Join(", ", running)})", "name one with --name"),
        };
    }

    /// <summary>Sends <paramref name="request"/> to the emulation <paramref name="name"/>; returns its JSON answer when <c>"ok"</c> is true (the caller disposes it).</summary>
    /// <exception cref="TunTapException">It is not running, or answered with an error (its message and hint).</exception>
    public static Task<JsonDocument> RequestAsync(string name, string request, string? socketPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = socketPath ?? EmulationControlServer.SocketPathFor(name);
        return ControlSocketClient.RequestAsync($"emulation {name}", path, request, () => NotRunning(name, path), cancellationToken);
    }

    private static TunTapException NotRunning(string name, string path) =>
        new($"no emulation named {name} is running (no control socket at {path})", "start it with 'tuntap emulate up' (or 'emulate link --name'); 'tuntap emulate down FILE' cleans up after a crash");
}
