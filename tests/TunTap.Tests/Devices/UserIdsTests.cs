using TunTap.Devices;

namespace TunTap.Tests.Devices;

public sealed class UserIdsTests
{
    [Fact]
    public void Root_resolves_to_zero()
    {
        Assert.Equal(0u, UserIds.ResolveUser("root"));
        Assert.Equal(0u, UserIds.ResolveGroup("root"));
    }

    [Theory]
    [InlineData("0", 0u)]
    [InlineData("1000", 1000u)]
    [InlineData("4294967294", 4294967294u)]
    public void Numeric_ids_are_taken_as_they_are(string text, uint expected)
    {
        Assert.Equal(expected, UserIds.ResolveUser(text));
        Assert.Equal(expected, UserIds.ResolveGroup(text));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("4294967295")]
    [InlineData("99999999999")]
    [InlineData(" 12")]
    public void Odd_numbers_are_not_ids(string text) => Assert.False(UserIds.TryParseId(text, out _));

    [Fact]
    public void Unknown_user_is_a_clear_error()
    {
        var error = Assert.Throws<TunTapException>(() => UserIds.ResolveUser("no-such-user-tt"));
        Assert.Equal("no user named 'no-such-user-tt'", error.Message);
        Assert.Contains("numeric uid", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_group_is_a_clear_error()
    {
        var error = Assert.Throws<TunTapException>(() => UserIds.ResolveGroup("no-such-group-tt"));
        Assert.Equal("no group named 'no-such-group-tt'", error.Message);
    }

    [Fact]
    public void Empty_name_is_refused() => Assert.Throws<TunTapException>(() => UserIds.ResolveUser(""));
}
