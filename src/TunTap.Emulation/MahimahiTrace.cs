using System.Globalization;

namespace TunTap.Emulation;

/// <summary>
/// A Mahimahi link trace (<c>mm-link</c> format): one integer per line, a time in milliseconds
/// from the start of the trace, each line one delivery opportunity for up to
/// <see cref="DefaultOpportunityBytes"/> bytes. Times never decrease; several lines may share a time
/// (several opportunities in the same millisecond); the last time is the trace's period and must
/// be above zero. Blank lines are rejected, as Mahimahi does; surrounding spaces and a trailing
/// newline are accepted.
/// </summary>
public sealed class MahimahiTrace
{
    /// <summary>Bytes per delivery opportunity: Mahimahi's <c>PACKET_SIZE</c> (1500-byte MTU plus the 4-byte TUN header).</summary>
    public const int DefaultOpportunityBytes = 1504;

    private readonly long[] _milliseconds;

    private MahimahiTrace(long[] milliseconds)
    {
        _milliseconds = milliseconds;
    }

    /// <summary>The opportunity times, in milliseconds, non-decreasing.</summary>
    public ReadOnlySpan<long> Milliseconds => _milliseconds;

    /// <summary>Number of delivery opportunities per period.</summary>
    public int Count => _milliseconds.Length;

    /// <summary>The trace's period (its last timestamp), in milliseconds.</summary>
    public long PeriodMilliseconds => _milliseconds[^1];

    /// <summary>The average rate the trace offers, in bit/s, with <paramref name="opportunityBytes"/> per opportunity.</summary>
    public double AverageBitsPerSecond(int opportunityBytes = DefaultOpportunityBytes)
        => (double)Count * opportunityBytes * 8 * 1000 / PeriodMilliseconds;

    /// <summary>Builds a trace from opportunity times; the same rules as <see cref="Parse"/>.</summary>
    public static MahimahiTrace FromMilliseconds(ReadOnlySpan<long> milliseconds)
    {
        if (milliseconds.IsEmpty)
        {
            throw new TunTapException("trace: no timestamps found", "a Mahimahi trace has one millisecond timestamp per line");
        }

        for (var i = 0; i < milliseconds.Length; i++)
        {
            if (milliseconds[i] < 0)
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"trace line {i + 1}: {milliseconds[i]} is negative"));
            }

            if (i > 0 && milliseconds[i] < milliseconds[i - 1])
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"trace line {i + 1}: {milliseconds[i]} is before the previous timestamp {milliseconds[i - 1]}"), "timestamps must never decrease");
            }
        }

        if (milliseconds[^1] == 0)
        {
            throw new TunTapException("trace: the trace must last longer than 0 ms", "the last timestamp is the trace's period");
        }

        return new MahimahiTrace(milliseconds.ToArray());
    }

    /// <summary>Parses trace text; a malformed line fails with a <see cref="TunTapException"/> naming its number.</summary>
    public static MahimahiTrace Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var times = new List<long>();
        var lineNumber = 0;
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.IndexOf('\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            var trimmed = line.Trim();
            if (trimmed.IsEmpty)
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"trace line {lineNumber}: empty line"), "a Mahimahi trace has one millisecond timestamp per line");
            }

            if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"trace line {lineNumber}: '{Shorten(trimmed)}' is not a whole number of milliseconds"));
            }

            if (times.Count > 0 && ms < times[^1])
            {
                throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"trace line {lineNumber}: {ms} is before the previous timestamp {times[^1]}"), "timestamps must never decrease");
            }

            times.Add(ms);
        }

        return FromMilliseconds(times.ToArray());
    }

    /// <summary>Reads and parses a trace file.</summary>
    public static MahimahiTrace Load(string path)
    {
        try
        {
            return Parse(File.ReadAllText(path));
        }
        catch (TunTapException e)
        {
            throw new TunTapException($"{path}: {e.Message}", e.Hint, e);
        }
        catch (IOException e)
        {
            throw new TunTapException($"{path}: {e.Message}", "check the trace file path", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TunTapException($"{path}: {e.Message}", "check the trace file's permissions", e);
        }
    }

    internal static string Shorten(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "...");
}
