namespace TunTap.Emulation.Topology;

/// <summary>
/// A running <see cref="EmulatedLink"/> with a name and the spec text of each direction's model, so
/// a control request can change a model while the link runs (<see cref="LinkPump.Reconfigure"/>).
/// </summary>
public sealed class ControlledLink
{
    private readonly Lock _gate = new();
    private readonly ulong _seed;
    private readonly Func<string, string>? _readFile;
    private ulong _changes;

    /// <summary>Names <paramref name="link"/>, which runs the models of <paramref name="specAToB"/> and <paramref name="specBToA"/> seeded from <paramref name="seed"/>.</summary>
    /// <param name="name">The link's name.</param>
    /// <param name="a">What end A is (a host or namespace name), for display.</param>
    /// <param name="b">What end B is.</param>
    /// <param name="link">The running link.</param>
    /// <param name="specAToB">The spec text of A to B's current model.</param>
    /// <param name="specBToA">The spec text of B to A's current model.</param>
    /// <param name="seed">The seed the link was started with; changes derive new seeds from it.</param>
    /// <param name="readFile">Reads trace files named in changes (relative paths resolved by the caller's choice).</param>
    public ControlledLink(string name, string a, string b, EmulatedLink link, string specAToB, string specBToA, ulong seed, Func<string, string>? readFile = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(link);
        Name = name;
        A = a;
        B = b;
        Link = link;
        SpecAToB = specAToB;
        SpecBToA = specBToA;
        _seed = seed;
        _readFile = readFile;
    }

    /// <summary>The link's name.</summary>
    public string Name { get; }

    /// <summary>End A's name.</summary>
    public string A { get; }

    /// <summary>End B's name.</summary>
    public string B { get; }

    /// <summary>The running link.</summary>
    public EmulatedLink Link { get; }

    /// <summary>The spec text of A to B's model now.</summary>
    public string SpecAToB { get; private set; }

    /// <summary>The spec text of B to A's model now.</summary>
    public string SpecBToA { get; private set; }

    /// <summary>
    /// Changes the model of <paramref name="direction"/>: <paramref name="spec"/> on top of the current
    /// spec (each option it names replaces that option, the rest stays: <see cref="LinkSpecMerge"/>),
    /// or alone when <paramref name="replace"/>. New
    /// arrivals take the new model at once; packets inside the link finish as they were.
    /// </summary>
    /// <exception cref="TunTapException">The spec is invalid; nothing changed.</exception>
    public void Change(LinkDirection direction, string spec, bool replace)
    {
        ArgumentNullException.ThrowIfNull(spec);
        lock (_gate)
        {
            var aToB = Combine(SpecAToB, spec, replace);
            var bToA = Combine(SpecBToA, spec, replace);

            // Check both before touching either, so a bad spec changes nothing.
            var optionsAToB = (direction & LinkDirection.AToB) != 0 ? LinkSpecParser.Parse(aToB, _readFile) : null;
            var optionsBToA = (direction & LinkDirection.BToA) != 0 ? LinkSpecParser.Parse(bToA, _readFile) : null;
            _changes++;
            if (optionsAToB is not null)
            {
                Link.AToB.Reconfigure(optionsAToB, _seed + (_changes << 32));
                SpecAToB = aToB;
            }

            if (optionsBToA is not null)
            {
                Link.BToA.Reconfigure(optionsBToA, _seed + 1 + (_changes << 32));
                SpecBToA = bToA;
            }
        }
    }

    private static string Combine(string current, string spec, bool replace) => replace ? spec.Trim() : LinkSpecMerge.Merge(current, spec);
}
