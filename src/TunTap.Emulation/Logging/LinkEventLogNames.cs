namespace TunTap.Emulation.Logging;

/// <summary>The words a link event log uses: its columns, event kinds and drop causes, shared by the writer and the reader.</summary>
public static class LinkEventLogNames
{
    /// <summary>The CSV header line (and the JSON keys, in this order; <c>cause</c> only on drops).</summary>
    public const string CsvHeader = "time_us,direction,event,id,size,queue_packets,queue_bytes,held_packets,cause";

    /// <summary>The name of <paramref name="kind"/> in a log (<c>arrival</c>, <c>departure</c>, <c>drop</c>, <c>duplicate</c>).</summary>
    public static string Of(LinkEventKind kind) => kind switch
    {
        LinkEventKind.Arrival => "arrival",
        LinkEventKind.Departure => "departure",
        LinkEventKind.Drop => "drop",
        LinkEventKind.Duplicate => "duplicate",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The name of <paramref name="reason"/> in a log and in the live counters (<c>loss</c>, <c>queue-full</c>...).</summary>
    public static string Of(DropReason reason) => reason switch
    {
        DropReason.Loss => "loss",
        DropReason.QueueFull => "queue-full",
        DropReason.CoDel => "codel",
        DropReason.DelayLimit => "delay-limit",
        DropReason.OutputFull => "output-full",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };

    /// <summary>Reads an event kind's name; false for an unknown one.</summary>
    public static bool TryParseKind(ReadOnlySpan<char> text, out LinkEventKind kind)
    {
        foreach (var candidate in Enum.GetValues<LinkEventKind>())
        {
            if (text.SequenceEqual(Of(candidate)))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>Reads a drop cause's name; false for an unknown one.</summary>
    public static bool TryParseReason(ReadOnlySpan<char> text, out DropReason reason)
    {
        foreach (var candidate in Enum.GetValues<DropReason>())
        {
            if (text.SequenceEqual(Of(candidate)))
            {
                reason = candidate;
                return true;
            }
        }

        reason = default;
        return false;
    }
}
