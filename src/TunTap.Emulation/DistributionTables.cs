namespace TunTap.Emulation;

/// <summary>
/// Tables of standardized samples (mean 0, standard deviation 1, exactly, over the table) used the
/// way netem uses its distribution tables: a uniform index picks a value, which is scaled by the
/// jitter and added to the delay. Built here from inverse CDFs at evenly spaced quantiles.
/// </summary>
internal static class DistributionTables
{
    public const int Size = 4096;
    private const double ParetoShape = 3;

    private static readonly Lazy<double[]> NormalTable = new(() => Standardize(Quantiles(InverseNormal)));
    private static readonly Lazy<double[]> ParetoTable = new(() => Standardize(Quantiles(InversePareto)));
    private static readonly Lazy<double[]> ParetoNormalTable = new(BuildParetoNormal);

    public static double[]? For(DelayDistribution distribution) => distribution switch
    {
        DelayDistribution.Normal => NormalTable.Value,
        DelayDistribution.Pareto => ParetoTable.Value,
        DelayDistribution.ParetoNormal => ParetoNormalTable.Value,
        _ => null,
    };

    private static double[] Quantiles(Func<double, double> inverseCdf)
    {
        var table = new double[Size];
        for (var i = 0; i < Size; i++)
        {
            table[i] = inverseCdf((i + 0.5) / Size);
        }

        return table;
    }

    private static double[] BuildParetoNormal()
    {
        var normal = NormalTable.Value;
        var pareto = ParetoTable.Value;
        var table = new double[Size];

        // Pair each normal quantile with a Pareto quantile through a fixed odd-stride permutation,
        // which mixes them like independent draws would without using a random generator.
        for (var i = 0; i < Size; i++)
        {
            table[i] = (0.75 * normal[i]) + (0.25 * pareto[(i * 2749) % Size]);
        }

        Array.Sort(table);
        return Standardize(table);
    }

    private static double[] Standardize(double[] table)
    {
        double mean = 0;
        foreach (var v in table)
        {
            mean += v;
        }

        mean /= table.Length;
        double variance = 0;
        foreach (var v in table)
        {
            variance += (v - mean) * (v - mean);
        }

        var sd = Math.Sqrt(variance / table.Length);
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = (table[i] - mean) / sd;
        }

        return table;
    }

    private static double InversePareto(double p) => Math.Pow(1 - p, -1 / ParetoShape);

    // Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
    private static double InverseNormal(double p)
    {
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return Horner(c, q) / ((Horner(d, q) * q) + 1);
        }

        if (p > 1 - low)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -Horner(c, q) / ((Horner(d, q) * q) + 1);
        }

        var r = p - 0.5;
        var s = r * r;
        return Horner(a, s) * r / ((Horner(b, s) * s) + 1);
    }

    private static double Horner(ReadOnlySpan<double> coefficients, double x)
    {
        var result = 0.0;
        foreach (var k in coefficients)
        {
            result = (result * x) + k;
        }

        return result;
    }
}
