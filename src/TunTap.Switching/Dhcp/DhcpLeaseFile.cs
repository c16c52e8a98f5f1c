using System.Globalization;
using System.Text;

namespace TunTap.Switching.Dhcp;

/// <summary>
/// The lease file: one binding a line, <c>MAC ADDRESS EXPIRES [HOSTNAME]</c> (expiry in UTC,
/// ISO 8601 to the second), lines starting with <c>#</c> are comments. Written whole to a
/// temporary file in the same folder, flushed to disk and renamed over the old one, so a crash
/// leaves either the old or the new file, never half of one.
/// </summary>
public static class DhcpLeaseFile
{
    private const string Header = "# tuntap switch DHCP leases: MAC ADDRESS EXPIRES(UTC) [HOSTNAME]";

    /// <summary>The lines of a lease file for <paramref name="leases"/>.</summary>
    public static string Format(IEnumerable<DhcpLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var text = new StringBuilder(Header).Append('\n');
        foreach (var lease in leases)
        {
            text.Append(lease.ToString()).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Parses the text of a lease file; lines that are not bindings are skipped and counted in <paramref name="skipped"/>.</summary>
    public static IReadOnlyList<DhcpLease> Parse(string text, out int skipped)
    {
        ArgumentNullException.ThrowIfNull(text);
        var leases = new List<DhcpLease>();
        skipped = 0;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (TryParseLine(line, out var lease))
            {
                leases.Add(lease);
            }
            else
            {
                skipped++;
            }
        }

        return leases;
    }

    /// <summary>Parses one line, <c>MAC ADDRESS EXPIRES [HOSTNAME]</c>.</summary>
    public static bool TryParseLine(string line, out DhcpLease lease)
    {
        ArgumentNullException.ThrowIfNull(line);
        lease = default;
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is < 3 or > 4
            || !DhcpText.TryParseMac(parts[0], out var mac)
            || !DhcpText.TryParseIpv4(parts[1], out var address)
            || !DateTimeOffset.TryParseExact(parts[2], "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expires))
        {
            return false;
        }

        var hostName = parts.Length == 4 ? parts[3] : null;
        if (hostName is not null && !IsValidHostName(hostName))
        {
            return false;
        }

        lease = new DhcpLease(mac, address, expires, hostName);
        return true;
    }

    /// <summary>Reads a lease file; a missing file is an empty one.</summary>
    /// <exception cref="IOException">The file exists but cannot be read.</exception>
    public static IReadOnlyList<DhcpLease> Read(string path, out int skipped)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            skipped = 0;
            return [];
        }

        return Parse(File.ReadAllText(path), out skipped);
    }

    /// <summary>Writes <paramref name="leases"/> to <paramref name="path"/> atomically (temporary file, flush, rename); creates the folder.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static void Write(string path, IEnumerable<DhcpLease> leases)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? "/";
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                var bytes = Encoding.UTF8.GetBytes(Format(leases));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>True for a host name the file can hold: 1-63 letters, digits, '-', '_' or '.'.</summary>
    public static bool IsValidHostName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 63)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
