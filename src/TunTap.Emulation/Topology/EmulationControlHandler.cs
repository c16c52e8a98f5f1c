using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TunTap.Emulation.Topology;

/// <summary>
/// Answers control requests for a running emulation, one line in, one line of JSON out
/// (<c>{"ok":true,...}</c> or <c>{"ok":false,"error":"...","hint":"..."}</c>):
/// <code>
/// status                          the links and the spec of each direction
/// set LINK a2b|b2a|both SPEC...   SPEC on top of the direction's current spec (LINK '-': the only link)
/// replace LINK a2b|b2a|both SPEC  SPEC alone (empty: no impairment)
/// stop                            ends the emulation (it tears everything down)
/// </code>
/// Free of sockets, so it is tested without root; <see cref="EmulationControlServer"/> serves it on a Unix socket.
/// </summary>
public sealed class EmulationControlHandler
{
    /// <summary>The request forms, for error hints.</summary>
    public const string AllowedForms = "status | set LINK a2b|b2a|both SPEC... | replace LINK a2b|b2a|both [SPEC...] | stop";

    private readonly IReadOnlyList<ControlledLink> _links;
    private readonly Action _stop;

    /// <summary>Serves the emulation <paramref name="name"/> made of <paramref name="links"/>; <paramref name="stop"/> ends it.</summary>
    public EmulationControlHandler(string name, IReadOnlyList<ControlledLink> links, Action stop)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(stop);
        Name = name;
        _links = links;
        _stop = stop;
    }

    /// <summary>The emulation's name.</summary>
    public string Name { get; }

    /// <summary>Runs one request line and returns the JSON response line (without a newline).</summary>
    public string Handle(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0)
        {
            return Error("empty request", $"allowed: {AllowedForms}");
        }

        try
        {
            switch (tokens[0])
            {
                case "status" when tokens.Length == 1:
                    return Write(WriteStatus);
                case "stop" when tokens.Length == 1:
                    // Not on this thread: stopping tears down the server that is about to send this answer.
                    ThreadPool.QueueUserWorkItem(static stop => stop(), _stop, preferLocal: false);
                    return Write(_ => { });
                case "set" or "replace" when tokens.Length >= 3:
                    var link = FindLink(tokens[1]);
                    var direction = tokens[2] switch
                    {
                        "a2b" => LinkDirection.AToB,
                        "b2a" => LinkDirection.BToA,
                        "both" => LinkDirection.Both,
                        _ => throw new TunTapException($"'{tokens[2]}' is not a direction", "use a2b, b2a or both"),
                    };
                    var spec = string.Join(' ', tokens, 3, tokens.Length - 3);
                    if (tokens[0] == "set" && spec.Length == 0)
                    {
                        throw new TunTapException("set needs model options", "e.g. set LINK both delay 80ms; 'replace LINK both' clears a model");
                    }

                    link.Change(direction, spec, replace: tokens[0] == "replace");
                    return Write(w => WriteLink(w, link));
                default:
                    return Error($"unknown request '{line}'", $"allowed: {AllowedForms}");
            }
        }
        catch (TunTapException e)
        {
            var message = e.Message.StartsWith("link spec: ", StringComparison.Ordinal) ? e.Message["link spec: ".Length..] : e.Message;
            return Error(message, e.Hint);
        }
    }

    private ControlledLink FindLink(string name)
    {
        if (name == "-" && _links.Count == 1)
        {
            return _links[0];
        }

        var names = new List<string>(_links.Count);
        foreach (var link in _links)
        {
            if (link.Name == name)
            {
                return link;
            }

            names.Add(link.Name);
        }

        throw name == "-"
            ? new TunTapException($"emulation {Name} has {_links.Count} links: name one", $"links: {string.Join(", ", names)}")
            : new TunTapException($"emulation {Name} has no link '{name}'", $"links: {string.Join(", ", names)}");
    }

    private void WriteStatus(Utf8JsonWriter writer)
    {
        writer.WriteString("name", Name);
        writer.WriteStartArray("links");
        foreach (var link in _links)
        {
            writer.WriteStartObject();
            WriteLink(writer, link);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteLink(Utf8JsonWriter writer, ControlledLink link)
    {
        writer.WriteString("link", link.Name);
        writer.WriteString("a", link.A);
        writer.WriteString("b", link.B);
        writer.WriteString("a2b", link.SpecAToB);
        writer.WriteString("b2a", link.SpecBToA);
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", true);
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string Error(string message, string? hint)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", false);
            writer.WriteString("error", message);
            if (hint is null)
            {
                writer.WriteNull("hint");
            }
            else
            {
                writer.WriteString("hint", hint);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
