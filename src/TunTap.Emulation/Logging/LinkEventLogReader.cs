using System.Globalization;
using System.Text.Json;

namespace TunTap.Emulation.Logging;

/// <summary>
/// Reads a log written by <see cref="LinkEventLogWriter"/>: CSV with its header line, or JSON lines
/// (told apart by the first line). A missing file or a malformed line fails with a
/// <see cref="TunTapException"/> naming the file and the line number.
/// </summary>
public static class LinkEventLogReader
{
    private static readonly string[] Columns = LinkEventLogNames.CsvHeader.Split(',');

    /// <summary>Reads the log at <paramref name="path"/>.</summary>
    public static IReadOnlyList<LinkLogEntry> ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new TunTapException($"{path}: no such file", "give the FILE written by 'tuntap emulate link --log FILE'");
        }

        using var reader = new StreamReader(path);
        return Read(reader, path);
    }

    /// <summary>Reads a log from <paramref name="reader"/>; <paramref name="name"/> names it in errors.</summary>
    public static IReadOnlyList<LinkLogEntry> Read(TextReader reader, string name)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(name);
        var entries = new List<LinkLogEntry>();
        var directions = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNumber = 0;
        bool? json = null;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            if (json is null)
            {
                json = line.StartsWith('{');
                if (!json.Value)
                {
                    if (line.TrimEnd('\r') != LinkEventLogNames.CsvHeader)
                    {
                        throw Malformed(name, lineNumber, $"expected the header '{LinkEventLogNames.CsvHeader}' or a JSON object, found '{Shorten(line)}'");
                    }

                    continue;
                }
            }

            var entry = json.Value ? ParseJson(line, name, lineNumber) : ParseCsv(line.TrimEnd('\r'), name, lineNumber);
            if (!directions.TryGetValue(entry.Direction, out var direction))
            {
                direction = entry.Direction;
                directions.Add(direction, direction);
            }

            entries.Add(entry with { Direction = direction });
        }

        if (json is null)
        {
            throw new TunTapException($"{name}: empty log (no header, no events)", "was the emulator stopped before it started? Run 'tuntap emulate link --log FILE' and send some traffic");
        }

        return entries;
    }

    private static LinkLogEntry ParseCsv(string line, string name, int lineNumber)
    {
        var fields = line.Split(',');
        if (fields.Length != Columns.Length)
        {
            throw Malformed(name, lineNumber, $"expected {Columns.Length} comma-separated fields ({LinkEventLogNames.CsvHeader}), found {fields.Length}");
        }

        var kind = Kind(fields[2], name, lineNumber);
        return new LinkLogEntry(
            Number(fields[0], 0, name, lineNumber),
            Direction(fields[1], name, lineNumber),
            kind,
            Number(fields[3], 3, name, lineNumber),
            (int)Math.Min(int.MaxValue, Number(fields[4], 4, name, lineNumber)),
            Number(fields[5], 5, name, lineNumber),
            Number(fields[6], 6, name, lineNumber),
            Number(fields[7], 7, name, lineNumber),
            Cause(kind, fields[8].Length == 0 ? null : fields[8], name, lineNumber));
    }

    private static LinkLogEntry ParseJson(string line, string name, int lineNumber)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw Malformed(name, lineNumber, $"not a JSON object ({e.Message})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed(name, lineNumber, "not a JSON object");
            }

            var kind = Kind(Text(root, Columns[2], name, lineNumber), name, lineNumber);
            return new LinkLogEntry(
                JsonNumber(root, 0, name, lineNumber),
                Direction(Text(root, Columns[1], name, lineNumber), name, lineNumber),
                kind,
                JsonNumber(root, 3, name, lineNumber),
                (int)Math.Min(int.MaxValue, JsonNumber(root, 4, name, lineNumber)),
                JsonNumber(root, 5, name, lineNumber),
                JsonNumber(root, 6, name, lineNumber),
                JsonNumber(root, 7, name, lineNumber),
                Cause(kind, root.TryGetProperty(Columns[8], out var cause) && cause.ValueKind == JsonValueKind.String ? cause.GetString() : null, name, lineNumber));
        }
    }

    private static long Number(string text, int column, string name, int lineNumber) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && (value >= 0 || column == 0)
            ? value
            : throw Malformed(name, lineNumber, $"{Columns[column]} '{Shorten(text)}' is not a whole number");

    private static long JsonNumber(JsonElement root, int column, string name, int lineNumber)
    {
        if (!root.TryGetProperty(Columns[column], out var value))
        {
            throw Malformed(name, lineNumber, $"no \"{Columns[column]}\"");
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && (number >= 0 || column == 0)
            ? number
            : throw Malformed(name, lineNumber, $"\"{Columns[column]}\" {Shorten(value.GetRawText())} is not a whole number");
    }

    private static string Text(JsonElement root, string property, string name, int lineNumber) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Malformed(name, lineNumber, $"no \"{property}\" string");

    private static string Direction(string text, string name, int lineNumber) =>
        text.Length > 0 ? text : throw Malformed(name, lineNumber, "empty direction");

    private static LinkEventKind Kind(string text, string name, int lineNumber) =>
        LinkEventLogNames.TryParseKind(text, out var kind)
            ? kind
            : throw Malformed(name, lineNumber, $"unknown event '{Shorten(text)}'; expected arrival, departure, drop or duplicate");

    private static DropReason? Cause(LinkEventKind kind, string? text, string name, int lineNumber)
    {
        if (kind != LinkEventKind.Drop)
        {
            return null;
        }

        if (text is null)
        {
            throw Malformed(name, lineNumber, "a drop without its cause");
        }

        return LinkEventLogNames.TryParseReason(text, out var reason)
            ? reason
            : throw Malformed(name, lineNumber, $"unknown drop cause '{Shorten(text)}'");
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static TunTapException Malformed(string name, int lineNumber, string problem) =>
        new($"{name}: line {lineNumber}: {problem}", "is this a log written by 'tuntap emulate link --log FILE'?");
}
