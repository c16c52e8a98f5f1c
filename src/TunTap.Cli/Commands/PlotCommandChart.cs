using ScottPlot;
using SkiaSharp;
using TunTap.Emulation.Logging;

namespace TunTap.Cli.Commands;

/// <summary>Draws a <see cref="LinkLogTimeline"/> as three stacked panels sharing the time axis (as Mahimahi's graphs do).</summary>
internal static class PlotCommandChart
{
    public enum Format
    {
        Png,
        Svg,
    }

    public static Format FormatOf(string path) =>
        Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => Format.Png,
            ".svg" => Format.Svg,
            _ => throw new TunTapException($"--output: '{Path.GetFileName(path)}' must end in .png or .svg"),
        };

    /// <summary>
    /// Points in time order, thinned to the lowest and highest value per time bucket when there are
    /// more than two per bucket: the drawing looks the same (a bucket is under a pixel wide) while a
    /// long log's millions of points would make a slow render and a huge SVG.
    /// </summary>
    public static (double[] X, double[] Y) Envelope(IReadOnlyList<double> x, IReadOnlyList<double> y, double end, int buckets)
    {
        if (x.Count <= 2 * buckets || end <= 0)
        {
            return (x.ToArray(), y.ToArray());
        }

        var low = new int[buckets];
        var high = new int[buckets];
        Array.Fill(low, -1);
        Array.Fill(high, -1);
        for (var i = 0; i < x.Count; i++)
        {
            var bucket = Math.Clamp((int)(x[i] / end * buckets), 0, buckets - 1);
            if (low[bucket] < 0 || y[i] < y[low[bucket]])
            {
                low[bucket] = i;
            }

            if (high[bucket] < 0 || y[i] > y[high[bucket]])
            {
                high[bucket] = i;
            }
        }

        var outX = new List<double>(2 * buckets);
        var outY = new List<double>(2 * buckets);
        for (var bucket = 0; bucket < buckets; bucket++)
        {
            if (low[bucket] < 0)
            {
                continue;
            }

            var (first, second) = x[low[bucket]] <= x[high[bucket]] ? (low[bucket], high[bucket]) : (high[bucket], low[bucket]);
            outX.Add(x[first]);
            outY.Add(y[first]);
            if (second != first)
            {
                outX.Add(x[second]);
                outY.Add(y[second]);
            }
        }

        return ([.. outX], [.. outY]);
    }

    public static void Save(LinkLogTimeline timeline, string title, string path, Format format, int width, int height)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        var throughput = multiplot.GetPlot(0);
        var delay = multiplot.GetPlot(1);
        var queue = multiplot.GetPlot(2);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < timeline.Directions.Count; i++)
        {
            var direction = timeline.Directions[i];
            var color = palette.GetColor(i);
            double[] starts = [.. direction.IntervalStartSeconds];
            var delivered = throughput.Add.ScatterLine(starts, direction.DeliveredMbps.ToArray(), color);
            delivered.ConnectStyle = ConnectStyle.StepHorizontal;
            delivered.LegendText = $"{direction.Direction} delivered";
            var offered = throughput.Add.ScatterLine(starts, direction.OfferedMbps.ToArray(), color);
            offered.ConnectStyle = ConnectStyle.StepHorizontal;
            offered.LinePattern = LinePattern.Dashed;
            offered.LegendText = $"{direction.Direction} offered";

            var buckets = 2 * width;
            if (direction.DelayMilliseconds.Count > 0)
            {
                var (x, y) = Envelope(direction.DelaySeconds, direction.DelayMilliseconds, timeline.DurationSeconds, buckets);
                var points = delay.Add.ScatterPoints(x, y, color);
                points.MarkerSize = 3;
                points.LegendText = direction.Direction;
            }

            if (direction.QueueSeconds.Count > 0)
            {
                var (x, y) = Envelope(direction.QueueSeconds, direction.QueueBytes, timeline.DurationSeconds, buckets);
                var depth = queue.Add.ScatterLine(x, y.Select(b => b / 1000).ToArray(), color);
                depth.ConnectStyle = ConnectStyle.StepHorizontal;
                depth.LegendText = direction.Direction;
            }
        }

        throughput.Title($"{title}: {timeline.Directions.Sum(d => d.Arrivals)} arrivals, {timeline.Directions.Sum(d => d.Departures)} departures, {timeline.Directions.Sum(d => d.Drops)} drops");
        throughput.YLabel($"throughput (Mbit/s per {timeline.Interval.TotalMilliseconds:0.###} ms)");
        delay.YLabel("delay (ms)");
        queue.YLabel("queue (kB)");
        queue.XLabel("time (s)");
        var end = Math.Max(timeline.DurationSeconds, timeline.Interval.TotalSeconds);
        foreach (var plot in multiplot.GetPlots())
        {
            plot.Axes.SetLimitsX(0, end);
            plot.Axes.Margins(horizontal: 0, vertical: 0.1);
            plot.Axes.SetLimitsX(0, end);
            if (timeline.Directions.Count > 0)
            {
                plot.ShowLegend(Alignment.UpperRight);
            }
        }

        // Nothing below zero on any panel.
        foreach (var plot in multiplot.GetPlots())
        {
            var limits = plot.Axes.GetLimits();
            plot.Axes.SetLimitsY(0, Math.Max(limits.Top, 1));
        }

        multiplot.SharedAxes.ShareX(multiplot.GetPlots());
        if (format == Format.Png)
        {
            multiplot.SavePng(path, width, height);
            return;
        }

        using var stream = File.Create(path);
        using (var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), stream))
        {
            multiplot.Render(canvas, new PixelRect(0, width, height, 0));
        }
    }
}
