using System.Text;

namespace TunTap.Devices;

/// <summary>The kernel's rules for interface names (<c>dev_valid_name</c>), checked before any ioctl so the error is clear.</summary>
internal static class InterfaceName
{
    /// <summary>IFNAMSIZ - 1: the longest name in bytes.</summary>
    public const int MaxBytes = 15;

    /// <summary>Throws a <see cref="TunTapException"/> naming the problem unless <paramref name="name"/> is a valid interface name.</summary>
    public static void Validate(string name, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            if (allowEmpty)
            {
                return;
            }

            throw new TunTapException("the interface name is empty", "give a name such as tun0, or tun%d to let the kernel pick the number");
        }

        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxBytes)
        {
            throw new TunTapException(
                $"interface name '{name}' is too long ({bytes} bytes; at most {MaxBytes})",
                "Linux limits interface names to 15 bytes (IFNAMSIZ); pick a shorter one");
        }

        if (name is "." or "..")
        {
            throw new TunTapException($"'{name}' is not a valid interface name", "pick a name such as tun0");
        }

        foreach (var c in name)
        {
            if (c is '/' or ':' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new TunTapException(
                    $"interface name '{name}' contains '{(char.IsControl(c) ? "\\u" + ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture) : c.ToString())}'",
                    "interface names may not contain '/', ':' or whitespace");
            }
        }

        var percent = name.IndexOf('%', StringComparison.Ordinal);
        if (percent >= 0 && (name.IndexOf("%d", StringComparison.Ordinal) != percent || name.IndexOf('%', percent + 1) >= 0))
        {
            throw new TunTapException($"interface name '{name}' has a '%' that is not a single '%d'", "use one %d (e.g. tun%d) to let the kernel pick the number");
        }
    }
}
