using System.CommandLine;
using TunTap.Emulation;
using TunTap.Emulation.Logging;

namespace TunTap.Cli.Commands;

/// <summary><c>tuntap plot LOG -o FILE.png|svg [--interval 100ms]</c></summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var log = new Argument<FileInfo>("LOG") { Description = "A log written by 'tuntap emulate link --log FILE' (CSV or JSON lines)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The picture to write: PNG or SVG, by its extension.", Required = true, HelpName = "FILE.png|FILE.svg" };
        var interval = new Option<string>("--interval") { Description = "Throughput is averaged over intervals this long (units us, ms, s).", DefaultValueFactory = _ => "100ms", HelpName = "TIME" };
        var width = new Option<int>("--width") { Description = "Picture width in pixels.", DefaultValueFactory = _ => 1200, HelpName = "PIXELS" };
        var height = new Option<int>("--height") { Description = "Picture height in pixels.", DefaultValueFactory = _ => 900, HelpName = "PIXELS" };
        var command = new Command("plot", """
            Draw an emulated link's event log as stacked graphs over time, one colour per direction:
            throughput (Mbit/s delivered per interval, solid; offered, dashed), per-packet delay
            (queueing plus propagation, from each departure matched with its arrival), and the
            bottleneck queue (kB).

            Example:
              tuntap emulate link --a left --b right --rate 10mbit --delay 20ms --log /tmp/link.csv
              tuntap plot /tmp/link.csv -o /tmp/link.png --interval 200ms
            """)
        {
            log, output, interval, width, height,
        };
        command.SetAction(parse =>
        {
            var outputPath = parse.GetRequiredValue(output).FullName;
            var format = PlotCommandChart.FormatOf(outputPath);
            var intervalText = parse.GetRequiredValue(interval);
            if (!LinkSpecParser.TryParseTime(intervalText, out var step) || step <= TimeSpan.Zero)
            {
                throw new TunTapException($"--interval: '{intervalText}' is not a positive time", "use a number with us, ms or s, e.g. 100ms");
            }

            var (pixelsWide, pixelsHigh) = (parse.GetValue(width), parse.GetValue(height));
            if (pixelsWide is < 200 or > 20_000 || pixelsHigh is < 200 or > 20_000)
            {
                throw new TunTapException($"--width/--height: {pixelsWide}x{pixelsHigh} is out of range; allowed 200-20000 pixels each");
            }

            var logFile = parse.GetRequiredValue(log);
            var entries = LinkEventLogReader.ReadFile(logFile.FullName);
            var timeline = LinkLogTimeline.Build(entries, step);
            PlotCommandChart.Save(timeline, logFile.Name, outputPath, format, pixelsWide, pixelsHigh);
            var directions = timeline.Directions.Count == 0 ? "none" : string.Join(' ', timeline.Directions.Select(d => d.Direction));
            Console.Out.WriteLine($"plot: {outputPath} ({entries.Count} events over {timeline.DurationSeconds:0.###} s; directions {directions})");
            return 0;
        });
        return command;
    }
}
