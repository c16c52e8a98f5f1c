namespace TunTap;

/// <summary>
/// A failure the user can act on: the message is one line that names what went wrong, and
/// <see cref="Hint"/>, when set, says how to fix it. The CLI prints these without a stack trace.
/// </summary>
public class TunTapException : Exception
{
    /// <summary>Creates an exception with a one-line message and an optional fix.</summary>
    public TunTapException(string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Hint = hint;
    }

    /// <summary>How the user can fix the problem, or null when there is nothing to suggest.</summary>
    public string? Hint { get; }
}
