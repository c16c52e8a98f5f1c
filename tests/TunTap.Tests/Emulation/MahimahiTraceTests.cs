using CsCheck;
using TunTap.Emulation;
using static TunTap.Tests.Emulation.LinkHarness;

namespace TunTap.Tests.Emulation;

public sealed class MahimahiTraceTests
{
    private static LinkModel TraceLink(string trace, bool loop = true)
        => Create(new LinkModelOptions { Trace = MahimahiTrace.Parse(trace), TraceLoop = loop, QueueLimitPackets = 1000 });

    [Fact]
    public void Small_packets_share_one_opportunity_byte_by_byte()
    {
        // 1504 bytes per opportunity: three 500-byte packets fit, the fourth waits for the next one.
        var delivered = Run(TraceLink("10\n20\n30\n40\n"), Enumerable.Repeat((0L, 500), 4));
        Assert.Equal([Ms(10), Ms(10), Ms(10), Ms(20)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void A_full_size_packet_uses_one_opportunity_each()
    {
        var delivered = Run(TraceLink("10\n20\n30\n40\n"), Enumerable.Repeat((0L, 1500), 3));
        Assert.Equal([Ms(10), Ms(20), Ms(30)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void A_packet_larger_than_an_opportunity_spans_several()
    {
        var delivered = Run(TraceLink("10\n20\n30\n40\n"), [(0L, 3000), (0L, 100)]);

        // 3000 = 1504 + 1496: it leaves at the second opportunity, whose 8 spare bytes start the
        // next packet, which finishes at the third.
        Assert.Equal([Ms(20), Ms(30)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void An_idle_link_wastes_its_opportunities_and_one_at_the_arrival_instant_is_gone()
    {
        var delivered = Run(TraceLink("10\n20\n30\n40\n"), [(Ms(10), 100), (Ms(25), 100)]);
        Assert.Equal([Ms(20), Ms(30)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void Several_opportunities_in_one_millisecond_add_up()
    {
        var delivered = Run(TraceLink("5\n5\n5\n10\n"), Enumerable.Repeat((0L, 1500), 4));
        Assert.Equal([Ms(5), Ms(5), Ms(5), Ms(10)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void A_looping_trace_repeats_with_its_period()
    {
        // Period 20 ms: opportunities at 10, 20, 30, 40, 50...
        var delivered = Run(TraceLink("10\n20\n"), [(Ms(45), 100), (Ms(1_000_001), 100)]);
        Assert.Equal([Ms(50), Ms(1_000_010)], delivered.Select(d => d.Departure));
    }

    [Fact]
    public void A_trace_played_once_stops_delivering_at_its_end()
    {
        var model = TraceLink("10\n20\n", loop: false);
        var delivered = Run(model, [(0L, 1500), (0L, 1500), (0L, 1500), (Ms(45), 100)]);
        Assert.Equal([Ms(10), Ms(20)], delivered.Select(d => d.Departure));
        Assert.Null(model.NextDeparture);
        Assert.Equal(2, model.Counters.InFlightPackets);
    }

    [Fact]
    public void Throughput_matches_the_trace_rate()
    {
        // One opportunity per ms = 1504 B/ms = 12.032 Mbit/s; saturate it for 1 s with 1504-byte packets.
        var trace = string.Join('\n', Enumerable.Range(1, 1000));
        var delivered = Run(TraceLink(trace), Periodic(1000, 0, size: 1504));
        Assert.Equal(Ms(1000), delivered[^1].Departure);
        Assert.Equal(12_032_000, MahimahiTrace.Parse(trace).AverageBitsPerSecond(), 6);
    }

    [Theory]
    [InlineData("10\n\n20\n", "trace line 2: empty line")]
    [InlineData("10\nabc\n", "trace line 2: 'abc' is not a whole number of milliseconds")]
    [InlineData("10\n20\n15\n", "trace line 3: 15 is before the previous timestamp 20")]
    [InlineData("-5\n", "trace line 1: '-5' is not a whole number of milliseconds")]
    [InlineData("0\n0\n", "trace: the trace must last longer than 0 ms")]
    [InlineData("", "trace: no timestamps found")]
    [InlineData("99999999999999999999999\n", "trace line 1: '99999999999999999999999' is not a whole number of milliseconds")]
    public void Malformed_traces_name_the_line(string text, string message)
    {
        var e = Assert.Throws<TunTapException>(() => MahimahiTrace.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Parser_accepts_spaces_and_crlf()
    {
        var trace = MahimahiTrace.Parse(" 1\r\n2 \r\n2\r\n7");
        Assert.Equal([1L, 2, 2, 7], trace.Milliseconds.ToArray());
    }

    [Fact]
    public void Random_input_only_ever_fails_with_TunTapException()
    {
        var text = Gen.OneOf(
            Gen.String[Gen.Char["0123456789\n -\r"], 0, 60],
            Gen.String,
            Gen.Long[0, 100].Array[0, 20].Select(a => string.Join('\n', a)));
        text.Sample(t =>
        {
            try
            {
                var trace = MahimahiTrace.Parse(t);
                Assert.True(trace.PeriodMilliseconds > 0);
                for (var i = 1; i < trace.Count; i++)
                {
                    Assert.True(trace.Milliseconds[i] >= trace.Milliseconds[i - 1]);
                }
            }
            catch (TunTapException)
            {
            }
        }, iter: 5000);
    }

    [Fact]
    public void Load_names_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tt-trace-{Guid.NewGuid():N}.trace");
        File.WriteAllText(path, "1\nx\n");
        try
        {
            var e = Assert.Throws<TunTapException>(() => MahimahiTrace.Load(path));
            Assert.Equal($"{path}: trace line 2: 'x' is not a whole number of milliseconds", e.Message);
        }
        finally
        {
            File.Delete(path);
        }

        Assert.Throws<TunTapException>(() => MahimahiTrace.Load(path));
    }
}
