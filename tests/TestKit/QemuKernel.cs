namespace TunTap.TestKit;

/// <summary>
/// An installed Linux kernel a QEMU guest can boot: <c>/boot/vmlinuz-VERSION</c> with its modules
/// in <c>/lib/modules/VERSION</c> (Debian's linux-image-amd64 installs one).
/// </summary>
/// <param name="Version">The kernel release, e.g. <c>6.1.0-56-amd64</c>.</param>
/// <param name="Image">The kernel image to pass to <c>-kernel</c>.</param>
/// <param name="ModulesDirectory">Its modules.</param>
public sealed record QemuKernel(string Version, string Image, string ModulesDirectory)
{
    /// <summary>
    /// The kernel to boot: among those whose image and <c>modules.dep</c> are readable, a generic
    /// (not real-time) one first, then the newest release; null when there is none.
    /// </summary>
    public static QemuKernel? Find()
    {
        if (!Directory.Exists("/boot"))
        {
            return null;
        }

        var found = new List<QemuKernel>();
        foreach (var image in Directory.GetFiles("/boot", "vmlinuz-*"))
        {
            var version = Path.GetFileName(image)["vmlinuz-".Length..];
            var modules = Path.Combine("/lib/modules", version);
            if (File.Exists(Path.Combine(modules, "modules.dep")) && CanRead(image))
            {
                found.Add(new QemuKernel(version, image, modules));
            }
        }

        return found
            .OrderBy(k => k.Version.Contains("-rt-", StringComparison.Ordinal) ? 1 : 0)
            .ThenByDescending(k => System.Version.TryParse(k.Version.Split('-', '+')[0], out var v) ? v : new System.Version(0, 0))
            .ThenBy(k => k.Version, StringComparer.Ordinal)
            .FirstOrDefault();
    }

    /// <summary>
    /// The module files (paths relative to <see cref="ModulesDirectory"/>) to load, in order, so
    /// that <paramref name="modules"/> and everything they depend on are loaded (from
    /// <c>modules.dep</c>); modules built into the kernel are left out.
    /// </summary>
    /// <exception cref="InvalidOperationException">A module is neither a loadable module nor built in.</exception>
    public IReadOnlyList<string> ModuleLoadOrder(params string[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var dependencies = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(ModulesDirectory, "modules.dep")))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var path = line[..colon];
            dependencies[path] = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            byName[ModuleName(path)] = path;
        }

        var builtin = new HashSet<string>(StringComparer.Ordinal);
        var builtinFile = Path.Combine(ModulesDirectory, "modules.builtin");
        if (File.Exists(builtinFile))
        {
            foreach (var line in File.ReadLines(builtinFile))
            {
                builtin.Add(ModuleName(line));
            }
        }

        var order = new List<string>();
        foreach (var module in modules)
        {
            var name = module.Replace('-', '_');
            if (byName.TryGetValue(name, out var path))
            {
                // modules.dep lists a module's dependencies so that loading them last to first works.
                foreach (var dependency in dependencies[path].Reverse().Append(path))
                {
                    if (!order.Contains(dependency))
                    {
                        order.Add(dependency);
                    }
                }
            }
            else if (!builtin.Contains(name))
            {
                throw new InvalidOperationException($"kernel {Version} has no module {module} (neither in modules.dep nor built in)");
            }
        }

        return order;
    }

    private static string ModuleName(string path)
    {
        var file = Path.GetFileName(path);
        var dot = file.IndexOf(".ko", StringComparison.Ordinal);
        return (dot < 0 ? file : file[..dot]).Replace('-', '_');
    }

    private static bool CanRead(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
