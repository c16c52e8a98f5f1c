using SharpFuzz;
using TunTap.Fuzz.Targets;

// tuntap-fuzz TARGET                 run under libFuzzer (libfuzzer-dotnet; TunTap.Core.dll instrumented with 'sharpfuzz')
// tuntap-fuzz TARGET FILE|DIR...     replay inputs (a corpus, or a crash) without a fuzzing engine
// tuntap-fuzz TARGET --random N      N random inputs and mutations of the corpus in fuzz/corpus/TARGET (seeded: --seed S)
var targets = new Dictionary<string, ReadOnlySpanAction>(StringComparer.Ordinal)
{
    ["responder"] = ResponderTarget.Fuzz,
    ["pcap"] = PcapReaderTarget.Fuzz,
    ["netlink"] = NetlinkReplyTarget.Fuzz,
    ["tunnel-frame"] = TunnelFrameTarget.Fuzz,
    ["link-spec"] = LinkSpecTarget.Fuzz,
    ["control-text"] = ControlTextTarget.Fuzz,
    ["topology"] = TopologyTarget.Fuzz,
};

if (args.Length == 0 || !targets.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: tuntap-fuzz TARGET [FILE|DIR...]; targets: {string.Join(", ", targets.Keys)}");
    return 2;
}

if (args.Length == 1)
{
    Fuzzer.LibFuzzer.Run(target);
    return 0;
}

if (args[1] == "--random")
{
    var rounds = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
    var seed = args.Length > 4 && args[3] == "--seed" ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : 1;
    var corpusDir = Path.Combine(AppContext.BaseDirectory, "corpus", args[0]);
    var seeds = Directory.Exists(corpusDir) ? Array.ConvertAll(Directory.GetFiles(corpusDir), File.ReadAllBytes) : [];
    var random = new Random(seed);
    var input = new byte[4096];
    for (var i = 0; i < rounds; i++)
    {
        int length;
        if (seeds.Length > 0 && i % 2 == 0)
        {
            // A corpus entry with a few bytes flipped and a random cut: deep paths, not just headers.
            var original = seeds[random.Next(seeds.Length)];
            length = Math.Min(original.Length, input.Length);
            original.AsSpan(0, length).CopyTo(input);
            for (var flips = random.Next(1, 5); flips > 0 && length > 0; flips--)
            {
                input[random.Next(length)] ^= (byte)(1 << random.Next(8));
            }

            length = random.Next(length + 1);
        }
        else
        {
            length = random.Next(input.Length);
            random.NextBytes(input.AsSpan(0, length));
        }

        target(input.AsSpan(0, length));
    }

    Console.Out.WriteLine($"{args[0]}: {rounds} random inputs (seed {seed}), no failure");
    return 0;
}

var count = 0;
foreach (var path in args[1..])
{
    var files = Directory.Exists(path) ? Directory.GetFiles(path, "*", SearchOption.AllDirectories) : [path];
    foreach (var file in files)
    {
        target(File.ReadAllBytes(file));
        count++;
    }
}

Console.Out.WriteLine($"{args[0]}: {count} inputs replayed, no failure");
return 0;
