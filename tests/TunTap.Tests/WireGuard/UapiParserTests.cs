using System.Net;
using CsCheck;
using TunTap.WireGuard;
using TunTap.WireGuard.Uapi;

namespace TunTap.Tests.WireGuard;

public sealed class UapiParserTests
{
    private static readonly string KeyA = WireGuardKey.GeneratePrivateKey().ToHex();
    private static readonly string KeyB = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();
    private static readonly string KeyC = WireGuardKey.GeneratePrivateKey().DerivePublicKey().ToHex();

    private static (int Errno, UapiSetRequest? Request) Parse(params string[] lines)
    {
        var errno = UapiParser.TryParseSet(lines, out var request);
        return (errno, request);
    }

    [Fact]
    public void Set_request_with_every_key_parses()
    {
        var psk = WireGuardKey.GeneratePresharedKey();
        var (errno, request) = Parse(
            $"private_key={KeyA}", "listen_port=51820", "fwmark=4660", "replace_peers=true",
            $"public_key={KeyB}", "protocol_version=1", "update_only=true", $"preshared_key={psk.ToHex()}", "endpoint=[fd00::1]:4242",
            "persistent_keepalive_interval=25", "replace_allowed_ips=true", "allowed_ip=10.9.0.7/24", "allowed_ip=fd00:9::1/128",
            $"public_key={KeyC}", "remove=true");

        Assert.Equal(UapiErrno.None, errno);
        Assert.NotNull(request);
        Assert.Equal(KeyA, request.PrivateKey!.Value.ToHex());
        Assert.Equal(51820, request.ListenPort);
        Assert.Equal(4660u, request.FirewallMark);
        Assert.True(request.ReplacePeers);
        Assert.Equal(2, request.Peers.Count);
        var peer = request.Peers[0];
        Assert.Equal(KeyB, peer.PublicKey.ToHex());
        Assert.True(peer.UpdateOnly);
        Assert.False(peer.Remove);
        Assert.Equal(psk, peer.PresharedKey);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("fd00::1"), 4242), peer.Endpoint);
        Assert.Equal(TimeSpan.FromSeconds(25), peer.PersistentKeepalive);
        Assert.True(peer.ReplaceAllowedIps);
        Assert.Equal([IPNetwork.Parse("10.9.0.0/24"), IPNetwork.Parse("fd00:9::1/128")], peer.AllowedIps);
        Assert.True(request.Peers[1].Remove);
        Assert.Null(request.Peers[1].Endpoint);
    }

    [Fact]
    public void Empty_set_request_changes_nothing()
    {
        var (errno, request) = Parse();
        Assert.Equal(UapiErrno.None, errno);
        Assert.Null(request!.PrivateKey);
        Assert.Null(request.ListenPort);
        Assert.Empty(request.Peers);
    }

    [Theory]
    [InlineData("no equals sign", -71)]
    [InlineData("", -71)]
    [InlineData("bogus_key=1", -22)]
    [InlineData("private_key=abc", -22)]
    [InlineData("private_key=", -22)]
    [InlineData("listen_port=65536", -22)]
    [InlineData("listen_port=-1", -22)]
    [InlineData("listen_port= 1", -22)]
    [InlineData("fwmark=x", -22)]
    [InlineData("replace_peers=false", -22)]
    [InlineData("public_key=zz", -22)]
    [InlineData("endpoint=1.2.3.4:5", -22)] // a peer key before any public_key
    public void Device_section_errors_answer_wireguard_go_errnos(string line, int expected)
    {
        var (errno, request) = Parse(line);
        Assert.Equal(expected, errno);
        Assert.Null(request);
    }

    [Theory]
    [InlineData("private_key=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("listen_port=1")]
    [InlineData("remove=false")]
    [InlineData("update_only=1")]
    [InlineData("replace_allowed_ips=yes")]
    [InlineData("protocol_version=2")]
    [InlineData("preshared_key=00")]
    [InlineData("persistent_keepalive_interval=65536")]
    [InlineData("endpoint=1.2.3.4")]
    [InlineData("endpoint=fd00::1:51820")]
    [InlineData("endpoint=[1.2.3.4]:5")]
    [InlineData("endpoint=1.2.3.4:70000")]
    [InlineData("endpoint=host.example:51820")]
    [InlineData("allowed_ip=10.0.0.1")]
    [InlineData("allowed_ip=10.0.0.0/33")]
    [InlineData("allowed_ip=fd00::/129")]
    [InlineData("allowed_ip=fe80::1%eth0/128")]
    [InlineData("allowed_ip=10.0.0.0/-1")]
    public void Peer_section_errors_are_invalid(string line)
    {
        var (errno, request) = Parse($"public_key={KeyB}", line);
        Assert.Equal(UapiErrno.Invalid, errno);
        Assert.Null(request);
    }

    [Theory]
    [InlineData("10.1.2.3/8", "10.0.0.0/8")]
    [InlineData("10.1.2.3/0", "0.0.0.0/0")]
    [InlineData("10.1.2.3/32", "10.1.2.3/32")]
    [InlineData("fd00:1:2:3::9/48", "fd00:1:2::/48")]
    [InlineData("::/0", "::/0")]
    [InlineData("10.255.255.255/13", "10.248.0.0/13")]
    public void Allowed_ip_host_bits_are_cleared(string text, string expected)
    {
        Assert.True(UapiParser.TryParseNetwork(text, out var network));
        Assert.Equal(IPNetwork.Parse(expected), network);
    }

    [Fact]
    public void Garbage_never_throws_and_errors_are_known_codes()
    {
        string[] keyNames = ["private_key", "listen_port", "fwmark", "replace_peers", "public_key", "remove", "update_only",
            "preshared_key", "endpoint", "persistent_keepalive_interval", "replace_allowed_ips", "allowed_ip", "protocol_version", "x", ""];
        string[] valueTexts = ["true", "1", KeyB, "[::1]:1", "1.2.3.4:5", "10.0.0.0/8", "::/0", "65535", ""];
        var keys = Gen.Int[0, keyNames.Length - 1].Select(i => keyNames[i]);
        var values = Gen.OneOf(Gen.String, Gen.Int[0, valueTexts.Length - 1].Select(i => valueTexts[i]));
        var line = Gen.OneOf(Gen.Select(keys, values, (k, v) => $"{k}={v}"), Gen.String);
        line.Array[0, 30].Sample(lines =>
        {
            var errno = UapiParser.TryParseSet(lines, out var request);
            Assert.Contains(errno, new[] { UapiErrno.None, UapiErrno.Invalid, UapiErrno.Protocol });
            Assert.Equal(errno == UapiErrno.None, request is not null);
        }, iter: 20_000);
    }
}
