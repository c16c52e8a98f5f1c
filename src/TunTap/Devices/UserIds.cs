using System.Globalization;
using TunTap.Interop;

namespace TunTap.Devices;

/// <summary>Turns user and group names (or numeric ids) into ids, for a device's owner and group.</summary>
public static class UserIds
{
    private const int InitialBufferSize = 1024;
    private const int MaxBufferSize = 1 << 20;

    /// <summary>The uid of <paramref name="nameOrUid"/>: a decimal uid as is, or a user name looked up in the user database (getpwnam_r).</summary>
    /// <exception cref="TunTapException">No user has that name.</exception>
    public static uint ResolveUser(string nameOrUid) =>
        Resolve(nameOrUid, "user", "uid", static (name, buffer) => LookUpUser(name, buffer));

    /// <summary>The gid of <paramref name="nameOrGid"/>: a decimal gid as is, or a group name looked up in the group database (getgrnam_r).</summary>
    /// <exception cref="TunTapException">No group has that name.</exception>
    public static uint ResolveGroup(string nameOrGid) =>
        Resolve(nameOrGid, "group", "gid", static (name, buffer) => LookUpGroup(name, buffer));

    /// <summary>Parses a decimal id; false for anything else (names, signs, overflow).</summary>
    internal static bool TryParseId(string text, out uint id)
    {
        id = 0;
        if (text.Length == 0 || text.Length > 10)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        // uint.MaxValue is (uid_t)-1, "no change" to the kernel: not a usable id.
        return uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id != uint.MaxValue;
    }

    private static uint Resolve(string text, string what, string idName, Func<string, byte[], (int Error, uint? Id)> lookUp)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (TryParseId(text, out var id))
        {
            return id;
        }

        if (text.Length == 0 || text.Contains('\0', StringComparison.Ordinal))
        {
            throw new TunTapException($"'{text}' is not a {what} name or {idName}", $"give a {what} name or a numeric {idName}");
        }

        for (var size = InitialBufferSize; size <= MaxBufferSize; size *= 4)
        {
            var (error, found) = lookUp(text, new byte[size]);
            if (error == Errno.ERANGE)
            {
                continue;
            }

            if (found is { } value)
            {
                return value;
            }

            if (error is 0 or Errno.ENOENT or Errno.ESRCH or Errno.EBADF or Errno.EPERM)
            {
                throw new TunTapException(
                    $"no {what} named '{text}'",
                    $"check the name (getent {(what == "user" ? "passwd" : "group")} {text}) or give a numeric {idName}");
            }

            throw new SystemCallException($"look up {what} '{text}'", error);
        }

        throw new TunTapException($"the {what} entry for '{text}' is too large to read", $"give a numeric {idName}");
    }

    private static unsafe (int Error, uint? Id) LookUpUser(string name, byte[] buffer)
    {
        var entry = stackalloc byte[Libc.PasswdSize];
        byte* result = null;
        fixed (byte* scratch = buffer)
        {
            var error = Libc.GetpwnamR(name, entry, scratch, (nuint)buffer.Length, &result);
            return result is null ? (error, null) : (0, *(uint*)(result + Libc.PasswdUidOffset));
        }
    }

    private static unsafe (int Error, uint? Id) LookUpGroup(string name, byte[] buffer)
    {
        var entry = stackalloc byte[Libc.GroupSize];
        byte* result = null;
        fixed (byte* scratch = buffer)
        {
            var error = Libc.GetgrnamR(name, entry, scratch, (nuint)buffer.Length, &result);
            return result is null ? (error, null) : (0, *(uint*)(result + Libc.GroupGidOffset));
        }
    }
}
