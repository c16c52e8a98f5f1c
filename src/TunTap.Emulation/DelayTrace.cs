using System.Globalization;

namespace TunTap.Emulation;

/// <summary>
/// A delay trace: one delay in milliseconds per line (decimals allowed), each line the one-way
/// delay during one time step (<see cref="Step"/>) from the start of the trace. Blank lines and
/// lines starting with '#' are skipped.
/// </summary>
public sealed class DelayTrace
{
    private readonly double[] _milliseconds;

    private DelayTrace(double[] milliseconds, TimeSpan step)
    {
        _milliseconds = milliseconds;
        Step = step;
    }

    /// <summary>How long each line applies.</summary>
    public TimeSpan Step { get; }

    /// <summary>The delays, in milliseconds.</summary>
    public ReadOnlySpan<double> Milliseconds => _milliseconds;

    /// <summary>Builds a trace from delays.</summary>
    public static DelayTrace FromMilliseconds(ReadOnlySpan<double> milliseconds, TimeSpan step)
    {
        if (step <= TimeSpan.Zero)
        {
            throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"--delay-trace step: {step.TotalMilliseconds:0.###}ms is out of range; allowed more than 0ms"));
        }

        if (milliseconds.IsEmpty)
        {
            throw new TunTapException("delay trace: no delays found", "a delay trace has one delay in milliseconds per line");
        }

        for (var i = 0; i < milliseconds.Length; i++)
        {
            if (!(milliseconds[i] >= 0 && milliseconds[i] <= 3_600_000))
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"delay trace line {i + 1}: {milliseconds[i]}ms is out of range; allowed 0-3600000ms"));
            }
        }

        return new DelayTrace(milliseconds.ToArray(), step);
    }

    /// <summary>Parses trace text; a malformed line fails with a <see cref="TunTapException"/> naming its number.</summary>
    public static DelayTrace Parse(string text, TimeSpan step)
    {
        ArgumentNullException.ThrowIfNull(text);
        var delays = new List<double>();
        var lineNumber = 0;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.IndexOf('\n');
            var line = (end < 0 ? rest : rest[..end]).Trim();
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (!double.TryParse(line, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var ms) || !(ms <= 3_600_000))
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"delay trace line {lineNumber}: '{MahimahiTrace.Shorten(line)}' is not a delay in milliseconds (0-3600000)"));
            }

            delays.Add(ms);
        }

        return FromMilliseconds(delays.ToArray(), step);
    }
}
