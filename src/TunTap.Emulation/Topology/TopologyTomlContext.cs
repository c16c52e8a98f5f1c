using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace TunTap.Emulation.Topology;

/// <summary>Source-generated TOML reading of the untyped model (no reflection, so trimming and AOT keep working).</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class TopologyTomlContext : TomlSerializerContext
{
    public TopologyTomlContext(TomlSerializerOptions options)
        : base(options)
    {
    }
}
