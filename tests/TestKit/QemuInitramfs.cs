using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace TunTap.TestKit;

/// <summary>
/// A tiny initramfs for QEMU guests: a static busybox, the virtio network modules of the kernel
/// and an /init that brings eth0 up, asks DHCP for an address with busybox udhcpc and then takes
/// commands on the serial console. It prints markers a test waits for:
/// <c>TT-BOOT-OK MAC</c>, <c>TT-DHCP-OK ADDRESS/PREFIX router=ROUTER</c> (or <c>TT-DHCP-FAIL</c>),
/// and for each <c>ping ADDRESS</c> line it reads, <c>TT-PING-OK ADDRESS</c> or
/// <c>TT-PING-FAIL ADDRESS</c>; <c>quit</c> powers it off. Packed as cpio (newc) + gzip and cached
/// under the temp folder, keyed by the kernel and the content.
/// </summary>
public static class QemuInitramfs
{
    /// <summary>Where busybox-static installs its binary.</summary>
    public const string BusyboxPath = "/bin/busybox";

    private const string InitScript = """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev 2>/dev/null
        for m in $(cat /etc/modules.order); do
          insmod "/lib/modules/$m" || echo "TT-INSMOD-FAIL $m"
        done
        i=0
        while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
        ip link set lo up
        ip link set eth0 up
        echo "TT-BOOT-OK $(cat /sys/class/net/eth0/address)"
        if udhcpc -i eth0 -f -q -n -t 20 -T 3 -s /etc/udhcpc.script; then
          echo "TT-DHCP-OK $(cat /tmp/dhcp-address) router=$(cat /tmp/dhcp-router)"
        else
          echo "TT-DHCP-FAIL"
        fi
        while read -r verb arg; do
          case "$verb" in
            ping)
              if ping -c 3 -W 15 "$arg" > /tmp/ping.out 2>&1; then echo "TT-PING-OK $arg"; else cat /tmp/ping.out; echo "TT-PING-FAIL $arg"; fi ;;
            quit) break ;;
          esac
        done
        poweroff -f

        """;

    // busybox udhcpc runs this with the lease in its environment ($ip, $mask as a prefix length, $router).
    private const string UdhcpcScript = """
        #!/bin/sh
        case "$1" in
          deconfig) ip addr flush dev "$interface" ;;
          bound|renew)
            ip addr flush dev "$interface"
            ip addr add "$ip/$mask" dev "$interface"
            for r in $router; do ip route add default via "$r" dev "$interface"; break; done
            echo "$ip/$mask" > /tmp/dhcp-address
            echo "$router" > /tmp/dhcp-router ;;
        esac

        """;

    /// <summary>
    /// The path of the initramfs for <paramref name="kernel"/>, built (with <c>virtio_pci</c> and
    /// <c>virtio_net</c> and their dependencies) unless a cached copy exists.
    /// </summary>
    /// <exception cref="InvalidOperationException">The kernel lacks the modules, or busybox is not static.</exception>
    public static async Task<string> GetOrBuildAsync(QemuKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var modules = kernel.ModuleLoadOrder("virtio_pci", "virtio_net");
        var busybox = new FileInfo(BusyboxPath);
        var key = $"{kernel.Version}\n{string.Join('\n', modules)}\n{busybox.Length}:{busybox.LastWriteTimeUtc.Ticks}\n{InitScript}\n{UdhcpcScript}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        var path = Path.Combine(Path.GetTempPath(), $"tuntap-qemu-initramfs-{kernel.Version}-{hash}.cpio.gz");
        if (File.Exists(path))
        {
            return path;
        }

        if (!IsStatic(BusyboxPath))
        {
            throw new InvalidOperationException($"{BusyboxPath} is dynamically linked; the guest needs busybox-static (scripts/test.sh installs it)");
        }

        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = File.Create(temporary))
            {
                await using var gzip = new GZipStream(file, CompressionLevel.Fastest);
                var cpio = new CpioWriter(gzip);
                foreach (var dir in new[] { "bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp" })
                {
                    cpio.Directory(dir);
                }

                // The kernel opens /dev/console before /init runs; without it /init has no output.
                cpio.CharacterDevice("dev/console", 5, 1);
                cpio.File("bin/busybox", await File.ReadAllBytesAsync(BusyboxPath).ConfigureAwait(false), executable: true);
                cpio.File("init", Encoding.ASCII.GetBytes(InitScript), executable: true);
                cpio.File("etc/udhcpc.script", Encoding.ASCII.GetBytes(UdhcpcScript), executable: true);
                var names = new StringBuilder();
                foreach (var module in modules)
                {
                    var name = Path.GetFileName(module);
                    var bytes = await ReadModuleAsync(Path.Combine(kernel.ModulesDirectory, module)).ConfigureAwait(false);
                    name = name[..(name.IndexOf(".ko", StringComparison.Ordinal) + 3)];
                    cpio.File($"lib/modules/{name}", bytes, executable: false);
                    names.Append(name).Append('\n');
                }

                cpio.File("etc/modules.order", Encoding.ASCII.GetBytes(names.ToString()), executable: false);
                cpio.Trailer();
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return path;
    }

    /// <summary>True when the ELF file has no program interpreter (statically linked).</summary>
    public static bool IsStatic(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 64 || bytes[0] != 0x7F || bytes[1] != (byte)'E' || bytes[4] != 2)
        {
            return false;
        }

        var phoff = (long)BitConverter.ToUInt64(bytes, 0x20);
        var phentsize = BitConverter.ToUInt16(bytes, 0x36);
        var phnum = BitConverter.ToUInt16(bytes, 0x38);
        for (var i = 0; i < phnum; i++)
        {
            var at = phoff + ((long)i * phentsize);
            if (at + 4 > bytes.Length)
            {
                return false;
            }

            if (BitConverter.ToUInt32(bytes, (int)at) == 3) // PT_INTERP
            {
                return false;
            }
        }

        return true;
    }

    private static async Task<byte[]> ReadModuleAsync(string path)
    {
        // busybox insmod takes plain modules; Debian's newer kernels compress them.
        var tool = path.EndsWith(".xz", StringComparison.Ordinal) ? "xz" : path.EndsWith(".zst", StringComparison.Ordinal) ? "zstd" : null;
        if (tool is null)
        {
            return await File.ReadAllBytesAsync(path).ConfigureAwait(false);
        }

        var plain = Path.Combine(Path.GetTempPath(), $"tuntap-module-{Guid.NewGuid():N}.ko");
        try
        {
            (await ProcessRunner.RunAsync("sh", ["-c", $"{tool} -dc '{path}' > '{plain}'"], TimeSpan.FromSeconds(60)).ConfigureAwait(false)).EnsureSuccess();
            return await File.ReadAllBytesAsync(plain).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(plain);
        }
    }

    /// <summary>Writes a cpio archive in the "newc" format (the one the kernel unpacks).</summary>
    private sealed class CpioWriter(Stream output)
    {
        private int _inode = 1;

        public void Directory(string name) => Entry(name, 0x41ED /* dir, 0755 */, [], 0, 0);

        public void File(string name, byte[] data, bool executable) => Entry(name, executable ? 0x81ED : 0x81A4, data, 0, 0);

        public void CharacterDevice(string name, int major, int minor) => Entry(name, 0x2180 /* chr, 0600 */, [], major, minor);

        public void Trailer() => Entry("TRAILER!!!", 0, [], 0, 0);

        private void Entry(string name, int mode, byte[] data, int rdevMajor, int rdevMinor)
        {
            var nameBytes = Encoding.ASCII.GetBytes(name + "\0");
            var header = new StringBuilder("070701");
            foreach (var field in new long[] { _inode++, mode, 0, 0, (mode & 0x4000) != 0 ? 2 : 1, 0, data.Length, 0, 0, rdevMajor, rdevMinor, nameBytes.Length, 0 })
            {
                header.Append(field.ToString("x8", System.Globalization.CultureInfo.InvariantCulture));
            }

            output.Write(Encoding.ASCII.GetBytes(header.ToString()));
            output.Write(nameBytes);
            Pad(110 + nameBytes.Length);
            output.Write(data);
            Pad(data.Length);
        }

        private void Pad(int length)
        {
            Span<byte> zeros = stackalloc byte[3];
            zeros.Clear();
            output.Write(zeros[..((4 - (length % 4)) % 4)]);
        }
    }
}
