namespace TunTap.Switching;

/// <summary>
/// One request on a switch's control socket, as one line of text (see <see cref="Format"/> and
/// <see cref="TryParse"/>): <c>port add SPEC</c>, <c>port del ID|NAME</c>, <c>port unblock ID|NAME</c>, <c>port list</c>,
/// <c>mac</c> or <c>stats</c>. Words are separated by single spaces; the argument is the rest of
/// the line, taken verbatim.
/// </summary>
/// <param name="Command">What to do.</param>
/// <param name="Argument">The port spec (<see cref="SwitchControlCommand.PortAdd"/>) or port id or name (<see cref="SwitchControlCommand.PortDel"/>, <see cref="SwitchControlCommand.PortUnblock"/>); null otherwise.</param>
public sealed record SwitchControlRequest(SwitchControlCommand Command, string? Argument = null)
{
    /// <summary>The longest request line, newline included.</summary>
    public const int MaxLineLength = TunTap.Services.ControlSocketServer.MaxLineLength;

    /// <summary>The request forms, for error messages.</summary>
    public const string AllowedForms = "port add SPEC | port del ID|NAME | port unblock ID|NAME | port list | mac | stats";

    /// <summary>Parses one request line (without its newline; a trailing '\r' is allowed); garbage gives false and an error that lists the forms.</summary>
    public static bool TryParse(ReadOnlySpan<char> line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SwitchControlRequest? request, out string error)
    {
        request = null;
        if (line.EndsWith("\r", StringComparison.Ordinal))
        {
            line = line[..^1];
        }

        if (line.Length >= MaxLineLength)
        {
            error = $"request longer than {MaxLineLength - 1} characters";
            return false;
        }

        foreach (var c in line)
        {
            if (char.IsControl(c))
            {
                error = "request contains control characters";
                return false;
            }
        }

        if (line.SequenceEqual("port list"))
        {
            request = new SwitchControlRequest(SwitchControlCommand.PortList);
        }
        else if (line.SequenceEqual("mac"))
        {
            request = new SwitchControlRequest(SwitchControlCommand.Mac);
        }
        else if (line.SequenceEqual("stats"))
        {
            request = new SwitchControlRequest(SwitchControlCommand.Stats);
        }
        else if (line.StartsWith("port add ", StringComparison.Ordinal) && line.Length > "port add ".Length)
        {
            request = new SwitchControlRequest(SwitchControlCommand.PortAdd, line["port add ".Length..].ToString());
        }
        else if (line.StartsWith("port del ", StringComparison.Ordinal) && line.Length > "port del ".Length)
        {
            request = new SwitchControlRequest(SwitchControlCommand.PortDel, line["port del ".Length..].ToString());
        }
        else if (line.StartsWith("port unblock ", StringComparison.Ordinal) && line.Length > "port unblock ".Length)
        {
            request = new SwitchControlRequest(SwitchControlCommand.PortUnblock, line["port unblock ".Length..].ToString());
        }

        if (request is null)
        {
            var shown = line.Length > 40 ? string.Concat(line[..40], "...") : line.ToString();
            error = $"unknown request '{shown}'; allowed: {AllowedForms}";
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>The request as one line, without the newline.</summary>
    /// <exception cref="ArgumentException">The argument is missing, empty, or contains a line break.</exception>
    public string Format()
    {
        switch (Command)
        {
            case SwitchControlCommand.PortList:
                return "port list";
            case SwitchControlCommand.Mac:
                return "mac";
            case SwitchControlCommand.Stats:
                return "stats";
        }

        if (string.IsNullOrEmpty(Argument) || Argument.AsSpan().ContainsAny('\n', '\r'))
        {
            throw new ArgumentException($"'{Command}' needs a one-line argument", nameof(Argument));
        }

        return Command switch
        {
            SwitchControlCommand.PortAdd => $"port add {Argument}",
            SwitchControlCommand.PortUnblock => $"port unblock {Argument}",
            _ => $"port del {Argument}",
        };
    }
}
