using System.Globalization;

namespace TunTap.Emulation;

/// <summary>Range checks that fail with a <see cref="TunTapException"/> naming the option and the allowed range.</summary>
internal static class OptionValidation
{
    public static void Probability(string option, double value)
    {
        if (!(value >= 0 && value <= 1))
        {
            throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"{option}: {value * 100:0.###}% is out of range; allowed 0-100%"));
        }
    }

    public static void NonNegative(string option, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"{option}: {value.TotalMilliseconds:0.###}ms is out of range; allowed 0ms or more"));
        }
    }

    public static void AtLeast(string option, long value, long minimum, string unit = "")
    {
        if (value < minimum)
        {
            throw new TunTapException(string.Create(CultureInfo.InvariantCulture, $"{option}: {value}{unit} is out of range; allowed {minimum}{unit} or more"));
        }
    }
}
