using System.Globalization;

namespace TunTap.Emulation;

/// <summary>
/// Reads <see cref="LinkModelOptions"/> from netem-like text, for the CLI:
/// <code>
/// delay TIME [JITTER [CORR%]]   distribution uniform|normal|pareto|paretonormal   keep-order
/// loss [random] P% [CORR%] | loss gemodel p% [r% [1-h% [1-k%]]] | loss state p13% [p31% [p32% [p23% [p14%]]]]
/// duplicate P% [CORR%]   corrupt P% [CORR%]   reorder P% [CORR%] [gap N]   limit PACKETS   output-limit PACKETS
/// rate RATE [OVERHEAD [CELLSIZE [CELLOVERHEAD]]]   queue PACKETS   queue-bytes SIZE
/// codel [target TIME] [interval TIME]   slot MIN [MAX] [packets N] [bytes SIZE]
/// trace FILE [once]   delay-trace FILE [step TIME] [once]
/// </code>
/// Times take a unit (us, ms, s); rates bit, kbit, mbit, gbit (or bps, kbps, mbps, gbps in bytes/s, as
/// tc); sizes b, kb, mb (1024-based); percentages may omit the '%'. A mistake fails with a
/// <see cref="TunTapException"/> naming the token; an out-of-range value fails naming the option and
/// the allowed range.
/// </summary>
public static class LinkSpecParser
{
    private static readonly string[] Keywords =
    [
        "delay", "distribution", "keep-order", "loss", "duplicate", "corrupt", "reorder", "limit", "rate",
        "queue", "queue-bytes", "output-limit", "codel", "slot", "trace", "delay-trace", "gap", "target", "interval",
        "packets", "bytes", "once", "step", "random", "gemodel", "state",
    ];

    /// <summary>Parses <paramref name="spec"/>; <paramref name="readFile"/> reads trace files (default: <see cref="File.ReadAllText(string)"/>).</summary>
    public static LinkModelOptions Parse(string spec, Func<string, string>? readFile = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        readFile ??= File.ReadAllText;
        var tokens = spec.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var options = new LinkModelOptions();
        var i = 0;
        while (i < tokens.Length)
        {
            var keyword = tokens[i++].ToLowerInvariant();
            switch (keyword)
            {
                case "delay":
                    options = options with { Delay = Time(tokens, ref i, keyword) };
                    if (TryOptional(tokens, i, TryTime, out TimeSpan jitter))
                    {
                        i++;
                        options = options with { Jitter = jitter };
                        if (TryOptional(tokens, i, TryPercent, out double correlation))
                        {
                            i++;
                            options = options with { DelayCorrelation = correlation };
                        }
                    }

                    break;
                case "distribution":
                    var name = Next(tokens, ref i, keyword, "a distribution (uniform, normal, pareto, paretonormal)");
                    options = options with
                    {
                        Distribution = name.ToLowerInvariant() switch
                        {
                            "uniform" => DelayDistribution.Uniform,
                            "normal" => DelayDistribution.Normal,
                            "pareto" => DelayDistribution.Pareto,
                            "paretonormal" => DelayDistribution.ParetoNormal,
                            _ => throw Error(name, keyword, "is not a distribution; allowed uniform, normal, pareto, paretonormal"),
                        },
                    };
                    break;
                case "keep-order":
                    options = options with { KeepOrder = true };
                    break;
                case "loss":
                    options = options with { Loss = Loss(tokens, ref i) };
                    break;
                case "duplicate":
                    options = options with { Duplicate = Percent(tokens, ref i, keyword), DuplicateCorrelation = OptionalPercent(tokens, ref i) };
                    break;
                case "corrupt":
                    options = options with { Corrupt = Percent(tokens, ref i, keyword), CorruptCorrelation = OptionalPercent(tokens, ref i) };
                    break;
                case "reorder":
                    options = options with { Reorder = Percent(tokens, ref i, keyword), ReorderCorrelation = OptionalPercent(tokens, ref i) };
                    if (i < tokens.Length && tokens[i].Equals("gap", StringComparison.OrdinalIgnoreCase))
                    {
                        i++;
                        options = options with { ReorderGap = (int)Integer(tokens, ref i, "gap", int.MaxValue) };
                    }

                    break;
                case "limit":
                    options = options with { Limit = (int)Integer(tokens, ref i, keyword, int.MaxValue) };
                    break;
                case "rate":
                    options = options with { RateBitsPerSecond = Rate(tokens, ref i, keyword) };
                    if (TryOptional(tokens, i, TrySignedInt, out int overhead))
                    {
                        i++;
                        options = options with { PacketOverhead = overhead };
                        if (TryOptional(tokens, i, TrySignedInt, out int cell))
                        {
                            i++;
                            options = options with { CellSize = cell };
                            if (TryOptional(tokens, i, TrySignedInt, out int cellOverhead))
                            {
                                i++;
                                options = options with { CellOverhead = cellOverhead };
                            }
                        }
                    }

                    break;
                case "output-limit":
                    options = options with { OutputLimit = (int)Integer(tokens, ref i, keyword, int.MaxValue) };
                    break;
                case "queue":
                    options = options with { QueueLimitPackets = (int)Integer(tokens, ref i, keyword, int.MaxValue) };
                    break;
                case "queue-bytes":
                    options = options with { QueueLimitBytes = Size(tokens, ref i, keyword) };
                    break;
                case "codel":
                    options = options with { QueueDiscipline = QueueDiscipline.CoDel };
                    while (i < tokens.Length && tokens[i].ToLowerInvariant() is "target" or "interval")
                    {
                        var which = tokens[i++].ToLowerInvariant();
                        var value = Time(tokens, ref i, which);
                        options = which == "target" ? options with { CoDelTarget = value } : options with { CoDelInterval = value };
                    }

                    break;
                case "slot":
                    var min = Time(tokens, ref i, keyword);
                    var max = min;
                    if (TryOptional(tokens, i, TryTime, out TimeSpan maxDelay))
                    {
                        i++;
                        max = maxDelay;
                    }

                    int packets = 0;
                    long bytes = 0;
                    while (i < tokens.Length && tokens[i].ToLowerInvariant() is "packets" or "bytes")
                    {
                        var which = tokens[i++].ToLowerInvariant();
                        if (which == "packets")
                        {
                            packets = (int)Integer(tokens, ref i, "slot packets", int.MaxValue);
                        }
                        else
                        {
                            bytes = Size(tokens, ref i, "slot bytes");
                        }
                    }

                    options = options with { Slot = new SlotOptions(min, max, packets, bytes) };
                    break;
                case "trace":
                    var tracePath = Next(tokens, ref i, keyword, "a trace file");
                    options = options with { Trace = ReadTrace(tracePath, readFile, text => MahimahiTrace.Parse(text)), TraceLoop = !Once(tokens, ref i) };
                    break;
                case "delay-trace":
                    var delayPath = Next(tokens, ref i, keyword, "a delay trace file");
                    var step = TimeSpan.FromMilliseconds(1);
                    if (i < tokens.Length && tokens[i].Equals("step", StringComparison.OrdinalIgnoreCase))
                    {
                        i++;
                        step = Time(tokens, ref i, "step");
                    }

                    var loop = !Once(tokens, ref i);
                    options = options with { DelayTrace = ReadTrace(delayPath, readFile, text => DelayTrace.Parse(text, step)), DelayTraceLoop = loop };
                    break;
                default:
                    throw new TunTapException($"link spec: unknown option '{tokens[i - 1]}'", "known: delay, distribution, keep-order, loss, duplicate, corrupt, reorder, limit, rate, queue, queue-bytes, codel, slot, trace, delay-trace");
            }
        }

        // Range checks live with the stages; building them once reports the first bad value.
        LinkModelBuilder.BuildStages(options, TimeSpan.TicksPerSecond, 0, 0);
        return options;
    }

    private static LossOptions Loss(string[] tokens, ref int i)
    {
        var model = i < tokens.Length ? tokens[i].ToLowerInvariant() : "";
        if (model is "gemodel" or "state")
        {
            i++;
            var first = Percent(tokens, ref i, $"loss {model}");
            var rest = new double?[4];
            for (var k = 0; k < rest.Length && TryOptional(tokens, i, TryPercent, out double value); k++)
            {
                i++;
                rest[k] = value;
            }

            return model == "gemodel"
                ? new GilbertElliottLossOptions(first, rest[0], rest[1], rest[2])
                : new FourStateLossOptions(first, rest[0], rest[1], rest[2], rest[3]);
        }

        if (model == "random")
        {
            i++;
        }

        return new RandomLossOptions(Percent(tokens, ref i, "loss"), OptionalPercent(tokens, ref i));
    }

    private static T ReadTrace<T>(string path, Func<string, string> readFile, Func<string, T> parse)
    {
        string text;
        try
        {
            text = readFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TunTapException($"link spec: cannot read trace '{path}': {e.Message}", "check the path", e);
        }

        try
        {
            return parse(text);
        }
        catch (TunTapException e)
        {
            throw new TunTapException($"{path}: {e.Message}", e.Hint, e);
        }
    }

    private static bool Once(string[] tokens, ref int i)
    {
        if (i < tokens.Length && tokens[i].Equals("once", StringComparison.OrdinalIgnoreCase))
        {
            i++;
            return true;
        }

        return false;
    }

    private delegate bool TryParser<T>(string token, out T value);

    private static bool TryOptional<T>(string[] tokens, int i, TryParser<T> parser, out T value)
    {
        value = default!;
        return i < tokens.Length && !IsKeyword(tokens[i]) && parser(tokens[i], out value);
    }

    private static bool IsKeyword(string token) => Array.IndexOf(Keywords, token.ToLowerInvariant()) >= 0;

    private static string Next(string[] tokens, ref int i, string after, string expected)
    {
        if (i >= tokens.Length)
        {
            throw new TunTapException($"link spec: '{after}' needs {expected}");
        }

        return tokens[i++];
    }

    private static TunTapException Error(string token, string after, string reason)
        => new($"link spec: '{token}' after '{after}' {reason}");

    private static TimeSpan Time(string[] tokens, ref int i, string after)
    {
        var token = Next(tokens, ref i, after, "a time (e.g. 50ms)");
        return TryTime(token, out var value) ? value : throw Error(token, after, "is not a time; use a number with us, ms or s (e.g. 50ms)");
    }

    private static double Percent(string[] tokens, ref int i, string after)
    {
        var token = Next(tokens, ref i, after, "a percentage (e.g. 1%)");
        return TryPercent(token, out var value) ? value : throw Error(token, after, "is not a percentage (e.g. 1% or 0.5%)");
    }

    private static double OptionalPercent(string[] tokens, ref int i)
    {
        if (TryOptional(tokens, i, TryPercent, out double value))
        {
            i++;
            return value;
        }

        return 0;
    }

    private static long Integer(string[] tokens, ref int i, string after, long max)
    {
        var token = Next(tokens, ref i, after, "a whole number");
        return long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= max
            ? value
            : throw Error(token, after, $"is not a whole number (0-{max})");
    }

    private static long Rate(string[] tokens, ref int i, string after)
    {
        var token = Next(tokens, ref i, after, "a rate (e.g. 10mbit)");
        return TryRate(token, out var value) ? value : throw Error(token, after, "is not a rate; use bit, kbit, mbit, gbit (e.g. 10mbit) or bps, kbps, mbps, gbps for bytes/s");
    }

    private static long Size(string[] tokens, ref int i, string after)
    {
        var token = Next(tokens, ref i, after, "a size (e.g. 64kb)");
        return TrySize(token, out var value) ? value : throw Error(token, after, "is not a size; use b, kb or mb (e.g. 64kb)");
    }

    private static bool TrySignedInt(string token, out int value)
        => int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool TryPercent(string token, out double value)
    {
        var number = token.EndsWith('%') ? token[..^1] : token;
        if (double.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var percent) && double.IsFinite(percent))
        {
            value = percent / 100;
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Reads a time as the spec writes it (a number with us, ms or s, e.g. <c>100ms</c>).</summary>
    public static bool TryParseTime(string text, out TimeSpan value)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryTime(text, out value);
    }

    private static bool TryTime(string token, out TimeSpan value)
    {
        value = default;
        var (number, scale) = SplitUnit(token);
        double unitSeconds = scale switch
        {
            "us" or "usec" => 1e-6,
            "ms" or "msec" => 1e-3,
            "s" or "sec" => 1,
            _ => double.NaN,
        };
        if (double.IsNaN(unitSeconds) || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        var seconds = amount * unitSeconds;
        if (!(seconds <= 86_400))
        {
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
        return true;
    }

    private static bool TryRate(string token, out long value)
    {
        value = 0;
        var (number, unit) = SplitUnit(token);
        double multiplier = unit switch
        {
            "bit" => 1,
            "kbit" => 1e3,
            "mbit" => 1e6,
            "gbit" => 1e9,
            "tbit" => 1e12,
            "bps" => 8,
            "kbps" => 8e3,
            "mbps" => 8e6,
            "gbps" => 8e9,
            _ => double.NaN,
        };
        if (double.IsNaN(multiplier) || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return false;
        }

        var bits = amount * multiplier;
        if (!(bits >= 1 && bits <= 1e15))
        {
            return false;
        }

        value = (long)bits;
        return true;
    }

    private static bool TrySize(string token, out long value)
    {
        value = 0;
        var (number, unit) = SplitUnit(token);
        long multiplier = unit switch
        {
            "" or "b" => 1,
            "k" or "kb" => 1024,
            "m" or "mb" => 1024 * 1024,
            _ => 0,
        };
        if (multiplier == 0 || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount > long.MaxValue / multiplier)
        {
            return false;
        }

        value = amount * multiplier;
        return true;
    }

    private static (string Number, string Unit) SplitUnit(string token)
    {
        var end = 0;
        while (end < token.Length && (char.IsAsciiDigit(token[end]) || token[end] == '.'))
        {
            end++;
        }

        return (token[..end], token[end..].ToLowerInvariant());
    }
}
