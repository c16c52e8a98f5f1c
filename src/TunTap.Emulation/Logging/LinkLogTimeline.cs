namespace TunTap.Emulation.Logging;

/// <summary>
/// Turns the entries of a link event log into per-direction series: throughput per interval
/// (offered and delivered), per-packet delay from each departure matched with its arrival by packet
/// id (a duplicate counts from when it was made), and queue depth at every event.
/// </summary>
public sealed class LinkLogTimeline
{
    private const int MaxIntervals = 1_000_000;

    private LinkLogTimeline(IReadOnlyList<LinkDirectionTimeline> directions, double durationSeconds, TimeSpan interval)
    {
        Directions = directions;
        DurationSeconds = durationSeconds;
        Interval = interval;
    }

    /// <summary>One timeline per direction, in the order they first appear in the log.</summary>
    public IReadOnlyList<LinkDirectionTimeline> Directions { get; }

    /// <summary>The time of the last event, in seconds.</summary>
    public double DurationSeconds { get; }

    /// <summary>The throughput interval.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Builds the series with throughput counted per <paramref name="interval"/>.</summary>
    public static LinkLogTimeline Build(IReadOnlyList<LinkLogEntry> entries, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (interval <= TimeSpan.Zero)
        {
            throw new TunTapException($"--interval: {interval.TotalMilliseconds}ms is out of range; allowed more than 0ms");
        }

        long end = 0;
        foreach (var entry in entries)
        {
            end = Math.Max(end, entry.TimeMicroseconds);
        }

        var intervalMicroseconds = Math.Max(1, (long)interval.TotalMicroseconds);
        var count = (end / intervalMicroseconds) + 1;
        if (count > MaxIntervals)
        {
            throw new TunTapException($"--interval: {interval.TotalMilliseconds}ms cuts the log's {end / 1e6:0.###} s into more than {MaxIntervals} intervals", "use a longer interval");
        }

        var intervals = (int)count;
        var builders = new List<Builder>();
        var byName = new Dictionary<string, Builder>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!byName.TryGetValue(entry.Direction, out var builder))
            {
                builder = new Builder(entry.Direction, intervals);
                byName.Add(entry.Direction, builder);
                builders.Add(builder);
            }

            builder.Add(entry, intervalMicroseconds);
        }

        var directions = new List<LinkDirectionTimeline>(builders.Count);
        foreach (var builder in builders)
        {
            directions.Add(builder.Finish(intervalMicroseconds));
        }

        return new LinkLogTimeline(directions, end / 1e6, interval);
    }

    private sealed class Builder(string direction, int intervals)
    {
        private readonly LinkDirectionTimeline _timeline = new(direction);
        private readonly long[] _offeredBytes = new long[intervals];
        private readonly long[] _deliveredBytes = new long[intervals];
        private readonly Dictionary<long, long> _arrivals = [];
        private readonly List<double> _delaySeconds = [];
        private readonly List<double> _delayMilliseconds = [];
        private readonly List<double> _queueSeconds = [];
        private readonly List<double> _queueBytes = [];
        private readonly List<double> _heldPackets = [];

        public void Add(LinkLogEntry entry, long intervalMicroseconds)
        {
            var slot = (int)Math.Clamp(entry.TimeMicroseconds / intervalMicroseconds, 0, _offeredBytes.Length - 1);
            switch (entry.Kind)
            {
                case LinkEventKind.Arrival:
                    _timeline.Arrivals++;
                    _offeredBytes[slot] += entry.Size;
                    _arrivals[entry.PacketId] = entry.TimeMicroseconds;
                    break;
                case LinkEventKind.Duplicate:
                    _arrivals[entry.PacketId] = entry.TimeMicroseconds;
                    break;
                case LinkEventKind.Departure:
                    _timeline.Departures++;
                    _deliveredBytes[slot] += entry.Size;
                    if (_arrivals.Remove(entry.PacketId, out var arrival))
                    {
                        _delaySeconds.Add(entry.TimeMicroseconds / 1e6);
                        _delayMilliseconds.Add((entry.TimeMicroseconds - arrival) / 1e3);
                    }

                    break;
                case LinkEventKind.Drop:
                    _timeline.Drops++;
                    _arrivals.Remove(entry.PacketId);
                    break;
            }

            _queueSeconds.Add(entry.TimeMicroseconds / 1e6);
            _queueBytes.Add(entry.QueueBytes);
            _heldPackets.Add(entry.HeldPackets);
        }

        public LinkDirectionTimeline Finish(long intervalMicroseconds)
        {
            var starts = new double[_offeredBytes.Length];
            var offered = new double[_offeredBytes.Length];
            var delivered = new double[_offeredBytes.Length];
            var seconds = intervalMicroseconds / 1e6;
            for (var i = 0; i < starts.Length; i++)
            {
                starts[i] = i * seconds;
                offered[i] = _offeredBytes[i] * 8 / seconds / 1e6;
                delivered[i] = _deliveredBytes[i] * 8 / seconds / 1e6;
            }

            _timeline.IntervalStartSeconds = starts;
            _timeline.OfferedMbps = offered;
            _timeline.DeliveredMbps = delivered;
            _timeline.DelaySeconds = _delaySeconds;
            _timeline.DelayMilliseconds = _delayMilliseconds;
            _timeline.QueueSeconds = _queueSeconds;
            _timeline.QueueBytes = _queueBytes;
            _timeline.HeldPackets = _heldPackets;
            return _timeline;
        }
    }
}
