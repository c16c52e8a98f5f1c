using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace TunTap.Emulation.Logging;

/// <summary>
/// Writes the per-packet events of one or more <see cref="LinkModel"/>s to a file, as CSV or JSON lines.
/// Each direction gets a sink (<see cref="CreateSink"/>) that formats events as UTF-8 straight into a
/// pooled chunk; full chunks go through a bounded channel to a background writer, which returns
/// them to the pool once written. The data path never blocks on the file and allocates nothing: when
/// the writer falls behind and no chunk is free, events are dropped and counted
/// (<see cref="DroppedEvents"/>) instead, so memory stays at <c>chunkSize × chunkCount</c>. Partly
/// filled chunks are handed over every flush interval, so a live log is at most that far behind.
/// </summary>
/// <example>
/// <code>
/// await using var log = LinkEventLogWriter.Create("run.csv", Stopwatch.Frequency, Stopwatch.GetTimestamp());
/// model.EventSink = log.CreateSink("a->b");
/// </code>
/// </example>
public sealed class LinkEventLogWriter : IAsyncDisposable
{
    /// <summary>The default size of one pooled chunk.</summary>
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>The default number of pooled chunks (memory: 2 MiB with the default size).</summary>
    public const int DefaultChunkCount = 32;

    // Longer than any formatted event (a direction name is at most MaxDirectionLength).
    private const int MaxLineLength = 320;
    private const int MaxDirectionLength = 64;

    private readonly Stream _stream;
    private readonly LinkEventLogFormat _format;
    private readonly long _originTicks;
    private readonly double _microsecondsPerTick;
    private readonly Channel<byte[]> _free;
    private readonly Channel<FilledChunk> _filled;
    private readonly Lock _sinksGate = new();
    private readonly List<DirectionSink> _sinks = [];
    private readonly Timer _flushTimer;
    private readonly Task _writer;
    private int _disposed;

    /// <summary>Writes to <paramref name="stream"/> (owned: disposed with the writer).</summary>
    /// <param name="stream">Where the log goes.</param>
    /// <param name="format">CSV (a header line first) or JSON lines.</param>
    /// <param name="ticksPerSecond">The frequency of the links' clock.</param>
    /// <param name="originTicks">The time logged as 0 µs.</param>
    /// <param name="chunkSize">Bytes per pooled chunk (at least 1 KiB).</param>
    /// <param name="chunkCount">Pooled chunks shared by all sinks (at least 2).</param>
    /// <param name="flushInterval">How often partly filled chunks are handed to the writer (default 200 ms).</param>
    public LinkEventLogWriter(Stream stream, LinkEventLogFormat format, long ticksPerSecond, long originTicks,
        int chunkSize = DefaultChunkSize, int chunkCount = DefaultChunkCount, TimeSpan? flushInterval = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticksPerSecond);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkCount, 2);
        var interval = flushInterval ?? TimeSpan.FromMilliseconds(200);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero, nameof(flushInterval));
        _stream = stream;
        _format = format;
        _originTicks = originTicks;
        _microsecondsPerTick = 1e6 / ticksPerSecond;
        _free = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(chunkCount) { SingleReader = false, SingleWriter = false });
        _filled = Channel.CreateBounded<FilledChunk>(new BoundedChannelOptions(chunkCount) { SingleReader = true, SingleWriter = false });
        for (var i = 0; i < chunkCount; i++)
        {
            _free.Writer.TryWrite(new byte[chunkSize]);
        }

        if (format == LinkEventLogFormat.Csv)
        {
            stream.Write(Encoding.UTF8.GetBytes(LinkEventLogNames.CsvHeader + "\n"));
        }

        _writer = Task.Run(RunWriterAsync);
        _flushTimer = new Timer(static state => ((LinkEventLogWriter)state!).HandOverPartialChunks(), this, interval, interval);
    }

    /// <summary>What errors call the log: its path, or "event log" for a stream.</summary>
    public string Name { get; init; } = "event log";

    /// <summary>Events formatted into the log so far.</summary>
    public long RecordedEvents
    {
        get
        {
            long total = 0;
            lock (_sinksGate)
            {
                foreach (var sink in _sinks)
                {
                    total += sink.Recorded;
                }
            }

            return total;
        }
    }

    /// <summary>Events lost because the writer fell behind (no free chunk) or the log was already closed.</summary>
    public long DroppedEvents
    {
        get
        {
            long total = 0;
            lock (_sinksGate)
            {
                foreach (var sink in _sinks)
                {
                    total += sink.Dropped;
                }
            }

            return total;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> (replacing it) and logs there: JSON lines when the name ends in
    /// <c>.jsonl</c>, CSV otherwise. A path that cannot be created fails with a <see cref="TunTapException"/>.
    /// </summary>
    public static LinkEventLogWriter Create(string path, long ticksPerSecond, long originTicks)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream? stream = null;
        try
        {
            stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);
            return new LinkEventLogWriter(stream, FormatOf(path), ticksPerSecond, originTicks) { Name = path };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stream?.Dispose();
            throw new TunTapException($"--log: cannot create '{path}': {e.Message}", "give a writable file path, e.g. /tmp/link.csv");
        }
    }

    /// <summary>The format a file name asks for: <see cref="LinkEventLogFormat.JsonLines"/> for <c>*.jsonl</c>, CSV otherwise.</summary>
    public static LinkEventLogFormat FormatOf(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? LinkEventLogFormat.JsonLines : LinkEventLogFormat.Csv;

    /// <summary>
    /// A sink that logs events under the name <paramref name="direction"/> (letters, digits and
    /// <c>-&gt;&lt;_.</c>, e.g. <c>a-&gt;b</c>). One thread at a time may record into one sink.
    /// </summary>
    public ILinkEventSink CreateSink(string direction)
    {
        ArgumentException.ThrowIfNullOrEmpty(direction);
        if (direction.Length > MaxDirectionLength || !IsPlainName(direction))
        {
            throw new ArgumentException($"A direction name is up to {MaxDirectionLength} letters, digits and '->_.': '{direction}'.", nameof(direction));
        }

        var sink = new DirectionSink(this, direction);
        lock (_sinksGate)
        {
            _sinks.Add(sink);
        }

        return sink;
    }

    /// <summary>Hands over what the sinks hold, waits until everything is written, and closes the file. Later events are dropped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _flushTimer.DisposeAsync().ConfigureAwait(false);
        HandOverPartialChunks();
        _filled.Writer.TryComplete();
        try
        {
            await _writer.ConfigureAwait(false);
            await _stream.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new TunTapException($"{Name}: writing the event log failed: {e.Message}", "is the disk full? The link itself ran; only the log is incomplete", e);
        }
        finally
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static bool IsPlainName(string name)
    {
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '>' or '<' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private void HandOverPartialChunks()
    {
        lock (_sinksGate)
        {
            foreach (var sink in _sinks)
            {
                sink.HandOver();
            }
        }
    }

    private async Task RunWriterAsync()
    {
        var reader = _filled.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var filled))
            {
                try
                {
                    await _stream.WriteAsync(filled.Buffer.AsMemory(0, filled.Length)).ConfigureAwait(false);
                }
                finally
                {
                    _free.Writer.TryWrite(filled.Buffer);
                }
            }
        }
    }

    private bool TryTakeChunk(out byte[] chunk) => _free.Reader.TryRead(out chunk!);

    private bool Post(byte[] chunk, int length)
    {
        if (_filled.Writer.TryWrite(new FilledChunk(chunk, length)))
        {
            return true;
        }

        _free.Writer.TryWrite(chunk);
        return false;
    }

    private bool TryFormat(in LinkEvent e, string direction, Span<byte> destination, out int written)
    {
        written = 0;
        if (destination.Length < MaxLineLength)
        {
            return false;
        }

        // Field by field with TryFormat calls: an interpolated string handler boxes its values in
        // unoptimized (tier-0) code, and tiering up can wait as long as other code keeps compiling.
        var time = (long)((e.Ticks - _originTicks) * _microsecondsPerTick);
        var kind = LinkEventLogNames.Of(e.Kind);
        var drop = e.Kind == LinkEventKind.Drop;
        var line = new LineWriter(destination);
        if (_format == LinkEventLogFormat.Csv)
        {
            line = line.Number(time).Text(",").Text(direction).Text(",").Text(kind).Text(",").Number(e.PacketId).Text(",").Number(e.Size)
                .Text(",").Number(e.QueuePackets).Text(",").Number(e.QueueBytes).Text(",").Number(e.HeldPackets).Text(",")
                .Text(drop ? LinkEventLogNames.Of(e.Reason) : "").Text("\n");
        }
        else
        {
            line = line.Text("{\"time_us\":").Number(time).Text(",\"direction\":\"").Text(direction).Text("\",\"event\":\"").Text(kind)
                .Text("\",\"id\":").Number(e.PacketId).Text(",\"size\":").Number(e.Size).Text(",\"queue_packets\":").Number(e.QueuePackets)
                .Text(",\"queue_bytes\":").Number(e.QueueBytes).Text(",\"held_packets\":").Number(e.HeldPackets);
            if (drop)
            {
                line = line.Text(",\"cause\":\"").Text(LinkEventLogNames.Of(e.Reason)).Text("\"");
            }

            line = line.Text("}\n");
        }

        written = line.Length;
        return !line.Overflowed;
    }

    /// <summary>Appends UTF-8 text and invariant integers to a span, remembering when something did not fit (each call returns the writer advanced).</summary>
    private ref struct LineWriter(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Length { get; private set; }

        public bool Overflowed { get; private set; }

        public LineWriter Text(string text)
        {
            if (!Overflowed && Encoding.UTF8.TryGetBytes(text, _destination[Length..], out var count))
            {
                Length += count;
            }
            else
            {
                Overflowed = true;
            }

            return this;
        }

        public LineWriter Number(long value)
        {
            if (!Overflowed && value.TryFormat(_destination[Length..], out var count, default, CultureInfo.InvariantCulture))
            {
                Length += count;
            }
            else
            {
                Overflowed = true;
            }

            return this;
        }
    }

    private readonly record struct FilledChunk(byte[] Buffer, int Length);

    /// <summary>One direction's current chunk. Its lock is taken by the recording thread and, every flush interval, by the timer.</summary>
    private sealed class DirectionSink(LinkEventLogWriter owner, string direction) : ILinkEventSink
    {
        private readonly Lock _gate = new();
        private byte[]? _chunk;
        private int _used;
        private long _recorded;
        private long _dropped;

        public long Recorded => Volatile.Read(ref _recorded);

        public long Dropped => Volatile.Read(ref _dropped);

        public void Record(in LinkEvent linkEvent)
        {
            lock (_gate)
            {
                if (_chunk is null && !owner.TryTakeChunk(out _chunk))
                {
                    _chunk = null;
                    Volatile.Write(ref _dropped, _dropped + 1);
                    return;
                }

                if (!owner.TryFormat(linkEvent, direction, _chunk.AsSpan(_used), out var written))
                {
                    // The chunk is full: hand it over and continue in a fresh one, if the pool has one.
                    var full = _chunk;
                    _chunk = null;
                    owner.Post(full, _used);
                    _used = 0;
                    if (!owner.TryTakeChunk(out _chunk))
                    {
                        _chunk = null;
                        Volatile.Write(ref _dropped, _dropped + 1);
                        return;
                    }

                    // An empty chunk (at least 1 KiB) holds any line.
                    owner.TryFormat(linkEvent, direction, _chunk, out written);
                }

                _used += written;
                Volatile.Write(ref _recorded, _recorded + 1);
            }
        }

        public void HandOver()
        {
            lock (_gate)
            {
                if (_chunk is not null && _used > 0)
                {
                    owner.Post(_chunk, _used);
                    _chunk = null;
                    _used = 0;
                }
            }
        }
    }
}
