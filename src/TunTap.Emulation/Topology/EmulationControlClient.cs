using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TunTap.Emulation.Topology;

/// <summary>Sends one request to a running emulation's control socket (see <see cref="EmulationControlServer"/>).</summary>
public static class EmulationControlClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

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
    public static async Task<JsonDocument> RequestAsync(string name, string request, string? socketPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = socketPath ?? EmulationControlServer.SocketPathFor(name);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            if (!File.Exists(path))
            {
                throw NotRunning(name, path);
            }

            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            using var response = new MemoryStream();
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                response.Write(buffer, 0, received);
            }

            var document = JsonDocument.Parse(response.ToArray());
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True)
            {
                return document;
            }

            using (document)
            {
                var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e.GetString() : null;
                var hint = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("hint", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                throw new TunTapException($"emulation {name}: {error ?? "malformed response"}", hint);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            throw NotRunning(name, path);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new TunTapException($"cannot talk to emulation {name} at {path}: {e.Message}", "the control socket belongs to root: run this with sudo", e);
        }
        catch (SocketException e)
        {
            throw new TunTapException($"emulation {name} at {path}: {e.Message}", null, e);
        }
        catch (JsonException e)
        {
            throw new TunTapException($"emulation {name} answered something that is not JSON: {e.Message}", null, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TunTapException($"emulation {name} did not answer within {Timeout.TotalSeconds:0} seconds", "is it stuck? its output may say why");
        }
    }

    private static TunTapException NotRunning(string name, string path) =>
        new($"no emulation named {name} is running (no control socket at {path})", "start it with 'tuntap emulate up' (or 'emulate link --name'); 'tuntap emulate down FILE' cleans up after a crash");
}
