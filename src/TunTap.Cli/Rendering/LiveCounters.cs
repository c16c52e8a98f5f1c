using Spectre.Console;

namespace TunTap.Cli.Rendering;

/// <summary>
/// Shows counters while a command runs: a live table on a terminal, and when output is redirected
/// (scripts, tests, logs) a compact line every <c>interval</c>. Either way a final summary is printed.
/// </summary>
internal static class LiveCounters
{
    public static async Task RunAsync(IReadOnlyList<CounterSet> sets, Task work, TimeSpan interval, CancellationToken cancellationToken)
    {
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Live(Render(sets))
                .AutoClear(false)
                .StartAsync(async context =>
                {
                    while (!work.IsCompleted)
                    {
                        await Task.WhenAny(work, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                        context.UpdateTarget(Render(sets));
                    }
                }).ConfigureAwait(false);
        }
        else
        {
            var next = DateTime.UtcNow + interval;
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
                if (interval > TimeSpan.Zero && DateTime.UtcNow >= next && !cancellationToken.IsCancellationRequested)
                {
                    Console.Out.WriteLine(Line(sets));
                    next += interval;
                }
            }
        }

        await work.ConfigureAwait(false);
    }

    /// <summary>One line per set: <c>title: label=value label=value ...</c>.</summary>
    public static string Line(IReadOnlyList<CounterSet> sets)
    {
        var rows = new List<(string Label, long Value)>();
        var parts = new List<string>();
        foreach (var set in sets)
        {
            rows.Clear();
            set.Read(rows);
            var fields = new List<string>(rows.Count);
            foreach (var (label, value) in rows)
            {
                fields.Add($"{label.Replace(' ', '-')}={value}");
            }

            parts.Add($"{set.Title}: {string.Join(' ', fields)}");
        }

        return string.Join(" | ", parts);
    }

    private static Table Render(IReadOnlyList<CounterSet> sets)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("counter").AddColumn(new TableColumn("value").RightAligned());
        var rows = new List<(string Label, long Value)>();
        foreach (var set in sets)
        {
            rows.Clear();
            set.Read(rows);
            table.AddRow(new Markup($"[bold]{Markup.Escape(set.Title)}[/]"), new Text(""));
            foreach (var (label, value) in rows)
            {
                table.AddRow(Markup.Escape("  " + label), value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return table;
    }
}
