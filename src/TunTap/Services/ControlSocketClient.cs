using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TunTap.Services;

/// <summary>Sends one request line to a <see cref="ControlSocketServer"/> and reads its JSON answer.</summary>
public static class ControlSocketClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Sends <paramref name="request"/> to the control socket at <paramref name="path"/> and returns
    /// the answer when its <c>"ok"</c> is true (the caller disposes it).
    /// </summary>
    /// <param name="what">Names the service in messages, e.g. "switch sw0".</param>
    /// <param name="path">The control socket.</param>
    /// <param name="request">One request line (no newline).</param>
    /// <param name="notRunning">The error when nothing serves <paramref name="path"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="TunTapException">Not running, we may not talk to it, or it answered with an error (its message and hint).</exception>
    public static async Task<JsonDocument> RequestAsync(string what, string path, string request, Func<TunTapException> notRunning, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(notRunning);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            if (!File.Exists(path))
            {
                throw notRunning();
            }

            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token).ConfigureAwait(false);
            await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"), SocketFlags.None, timeout.Token).ConfigureAwait(false);
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
                throw new TunTapException($"{what}: {error ?? "malformed response"}", hint);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            throw notRunning();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            throw new TunTapException($"cannot talk to {what} at {path}: {e.Message}", "the control socket belongs to root: run this with sudo", e);
        }
        catch (SocketException e)
        {
            throw new TunTapException($"{what} at {path}: {e.Message}", null, e);
        }
        catch (JsonException e)
        {
            throw new TunTapException($"{what} answered something that is not JSON: {e.Message}", null, e);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TunTapException($"{what} did not answer within {Timeout.TotalSeconds:0} seconds", "is it stuck? its stderr may say why");
        }
    }
}
