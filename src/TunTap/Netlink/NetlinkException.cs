namespace TunTap.Netlink;

/// <summary>
/// The kernel refused an rtnetlink request. The message names the operation and, for common
/// mistakes, the problem in plain words (<c>add address 10.0.0.1/24 to tun0: the address already
/// exists (EEXIST)</c>); it ends with the kernel's own explanation when the kernel gave one.
/// </summary>
public sealed class NetlinkException : SystemCallException
{
    private readonly string _message;

    internal NetlinkException(string operation, int errno, string? kernelMessage, string message, string? hint)
        : base(operation, errno, hint)
    {
        KernelMessage = kernelMessage;
        _message = message;
    }

    /// <summary>The kernel's extended-ack error text (e.g. <c>mtu greater than device maximum</c>), when it sent one.</summary>
    public string? KernelMessage { get; }

    /// <inheritdoc/>
    public override string Message => _message;

    internal static NetlinkException From(string operation, NetlinkError error, string? problem = null, string? hint = null)
    {
        var errno = error.ErrorNumber;
        var kernel = error.KernelMessage is null ? "" : $": {error.KernelMessage}";
        var message = problem is null
            ? $"{operation}: {Errno.Name(errno)} ({System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)}){kernel}"
            : $"{operation}: {problem} ({Errno.Name(errno)}{kernel})";
        return new NetlinkException(operation, errno, error.KernelMessage, message, hint);
    }
}
