using System.Net.Sockets;
using System.Runtime.Versioning;
using TunTap.Services;

namespace TunTap.Tests.Services;

[UnsupportedOSPlatform("windows")]
public sealed class UnixSocketListenerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tt-usl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Owner_only_socket_is_0600_answers_and_is_refused_to_a_second_listener()
    {
        var path = Path.Combine(_directory, "a.sock");
        using var listener = UnixSocketListener.Listen(path, 4, ownerOnly: true, InUse);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.True(UnixSocketListener.IsSocket(path));
        Assert.True(UnixSocketListener.IsAnswering(path));
        var error = Assert.Throws<TunTapException>(() => UnixSocketListener.Listen(path, 4, ownerOnly: true, InUse));
        Assert.Equal("in use", error.Message);

        // No staging directory is left behind.
        Assert.Equal([path], Directory.GetFileSystemEntries(_directory));
    }

    [Fact]
    public void Socket_left_by_a_dead_process_is_replaced()
    {
        var path = Path.Combine(_directory, "stale.sock");

        // Bound but not listening answers like a socket whose process died (and .NET would
        // delete the file if it were disposed, so it stays open until the end).
        using var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        dead.Bind(new UnixDomainSocketEndPoint(path));
        Assert.True(UnixSocketListener.IsSocket(path));
        Assert.False(UnixSocketListener.IsAnswering(path));
        using var listener = UnixSocketListener.Listen(path, 4, ownerOnly: false, InUse);
        Assert.True(UnixSocketListener.IsAnswering(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("important data")]
    public void A_file_that_is_not_a_socket_is_never_replaced_or_removed(string content)
    {
        var path = Path.Combine(_directory, "file.sock");
        File.WriteAllText(path, content);
        var error = Assert.Throws<TunTapException>(() => UnixSocketListener.Listen(path, 4, ownerOnly: true, InUse));
        Assert.Contains("exists and is not a socket", error.Message, StringComparison.Ordinal);
        Assert.False(UnixSocketListener.IsSocket(path));
        UnixSocketListener.Remove(path);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void Missing_directory_is_created_and_remove_deletes_the_socket()
    {
        var path = Path.Combine(_directory, "sub", "b.sock");
        using (UnixSocketListener.Listen(path, 4, ownerOnly: true, InUse))
        {
            Assert.True(File.Exists(path));
        }

        UnixSocketListener.Remove(path);
        Assert.False(File.Exists(path));
        Assert.False(UnixSocketListener.IsSocket(path));
    }

    private static TunTapException InUse() => new("in use");
}
