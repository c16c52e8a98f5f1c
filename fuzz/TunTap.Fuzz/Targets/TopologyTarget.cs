using System.Text;
using TunTap.Emulation.Topology;

namespace TunTap.Fuzz.Targets;

/// <summary>Topology files (TOML) and live-change spec merging: bad input may only raise <see cref="TunTapException"/>.</summary>
internal sealed class TopologyTarget : IFuzzTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        var text = Encoding.UTF8.GetString(data);
        try
        {
            var topology = TopologyParser.Parse(text, "fuzz.toml", baseDirectory: "/nonexistent", readFile: _ => throw new TunTapException("no files while fuzzing"));
            TopologyPlan.Create(topology);
        }
        catch (TunTapException)
        {
        }

        LinkSpecMerge.Merge(text, text);
    }
}
