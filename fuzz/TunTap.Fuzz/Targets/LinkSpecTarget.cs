using System.Text;
using TunTap.Emulation;
using TunTap.Emulation.Logging;

namespace TunTap.Fuzz.Targets;

/// <summary>Emulation link specs, Mahimahi traces and link event logs: bad input may only raise <see cref="TunTapException"/>.</summary>
internal sealed class LinkSpecTarget : IFuzzTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        var text = Encoding.UTF8.GetString(data);
        try
        {
            LinkSpecParser.Parse(text, _ => throw new TunTapException("no files while fuzzing"));
        }
        catch (TunTapException)
        {
        }

        try
        {
            MahimahiTrace.Parse(text);
        }
        catch (TunTapException)
        {
        }

        try
        {
            LinkLogTimeline.Build(LinkEventLogReader.Read(new StringReader(text), "fuzz"), TimeSpan.FromMilliseconds(100));
        }
        catch (TunTapException)
        {
        }
    }
}
