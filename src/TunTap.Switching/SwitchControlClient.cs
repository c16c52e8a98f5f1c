using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TunTap.Switching;

/// <summary>Sends one request to a running switch's control socket (see <see cref="SwitchControlServer"/>).</summary>
public static class SwitchControlClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sends <paramref name="request"/> to the switch <paramref name="switchName"/> and returns its
    /// JSON response (<c>"ok": true</c>; the caller disposes it).
    /// </summary>
    /// <param name="switchName">The switch's name, as given to <c>tuntap switch run</c>.</param>
    /// <param name="request">What to ask.</param>
    /// <param name="socketPath">The control socket; by default <see cref="SwitchControlServer.SocketPathFor"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="TunTapException">No such switch is running, we may not talk to it, or it answered with an error (its message and hint).</exception>
    public static async Task<JsonDocument> RequestAsync(string switchName, SwitchControlRequest request, string? socketPath = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = socketPath ?? SwitchControlServer.SocketPathFor(switchName);
        var line = request.Format();
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            if (!File.Exists(path))
            {
                throw NotRunning(switchName, path);
            }

            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.UTF8.GetBytes(line + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var response = new MemoryStream();
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
                throw new TunTapException($"switch {switchName}: {error ?? "malformed response"}", hint);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            throw NotRunning(switchName, path);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new TunTapException($"cannot talk to switch {switchName} at {path}: {e.Message}", "the control socket belongs to root: run this with sudo", e);
        }
        catch (SocketException e)
        {
            throw new TunTapException($"switch {switchName} at {path}: {e.Message}", null, e);
        }
        catch (JsonException e)
        {
            throw new TunTapException($"switch {switchName} answered something that is not JSON: {e.Message}", null, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TunTapException($"switch {switchName} did not answer within {Timeout.TotalSeconds:0} seconds", "is it stuck? its stderr may say why");
        }
    }

    private static TunTapException NotRunning(string switchName, string path)
    {
        var running = SwitchControlServer.ListRunning(Path.GetDirectoryName(path) ?? SwitchControlServer.RunDirectory);
        var hint = running.Count == 0 ? "no switch is running" : $"running: {string.Join(", ", running)}";
        return new TunTapException($"no switch named {switchName} is running; start it with 'tuntap switch run {switchName} ...'", hint);
    }
}
