using System.Text;

namespace TunTap.Services;

/// <summary>
/// How counters print drop reasons: an enum name in lower case with a dash before each inner
/// capital (<c>LinkDown</c> is <c>link-down</c>), as every other counter is named.
/// </summary>
public static class DropReasonNames
{
    /// <summary>The printed name of <paramref name="reason"/>.</summary>
    public static string Of<TReason>(TReason reason)
        where TReason : struct, Enum
    {
        var index = Array.IndexOf(Names<TReason>.Reasons, reason);
        return index < 0 ? LowerKebab(reason.ToString()) : Names<TReason>.Printed[index];
    }

    /// <summary>
    /// Adds a row <c>PREFIX NAME</c> for every reason with drops, in the enum's order;
    /// <paramref name="count"/> reads one reason's drops.
    /// </summary>
    public static void AddRows<TReason>(ICollection<(string Label, long Value)> rows, string prefix, Func<TReason, long> count)
        where TReason : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(count);
        var reasons = Names<TReason>.Reasons;
        for (var i = 0; i < reasons.Length; i++)
        {
            var dropped = count(reasons[i]);
            if (dropped > 0)
            {
                rows.Add(($"{prefix} {Names<TReason>.Printed[i]}", dropped));
            }
        }
    }

    private static string LowerKebab(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]))
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static class Names<TReason>
        where TReason : struct, Enum
    {
        public static readonly TReason[] Reasons = Enum.GetValues<TReason>();

        public static readonly string[] Printed = Array.ConvertAll(Reasons, reason => LowerKebab(reason.ToString()));
    }
}
