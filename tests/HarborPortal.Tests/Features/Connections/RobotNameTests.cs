using HarborPortal.Features.Connections;

namespace HarborPortal.Tests.Features.Connections;

public sealed class RobotNameTests
{
    [Fact]
    public void A_System_Robot_Name_Without_The_Prefix_Gets_The_Prefixed_Name_Proposed()
    {
        var warning = RobotName.Check(HarborAuthKind.Robot, "harbor-portal", "robot$");

        Assert.NotNull(warning);
        Assert.Equal("robot$harbor-portal", warning.SuggestedName);
        Assert.Contains("robot$harbor-portal", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Project_Robot_Name_Gets_The_Prefix_Before_The_Project()
    {
        var warning = RobotName.Check(HarborAuthKind.Robot, "team-a+portal", "robot$");

        Assert.Equal("robot$team-a+portal", warning?.SuggestedName);
        Assert.Contains("project robot (project \"team-a\")", warning!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("robot$harbor-portal")]
    [InlineData("robot$team-a+portal")]
    [InlineData("")]
    [InlineData(null)]
    public void A_Prefixed_Or_Empty_Name_Gets_No_Warning(string? name) => Assert.Null(RobotName.Check(HarborAuthKind.Robot, name, "robot$"));

    [Fact]
    public void The_Connection_Prefix_Is_Used_When_Harbor_Has_Changed_It()
    {
        Assert.Null(RobotName.Check(HarborAuthKind.Robot, "bot_portal", "bot_"));
        Assert.Equal("bot_robot$portal", RobotName.Check(HarborAuthKind.Robot, "robot$portal", "bot_")?.SuggestedName);
    }

    [Fact]
    public void An_Empty_Prefix_Means_The_Default() => Assert.Equal("robot$x", RobotName.Check(HarborAuthKind.Robot, "x", " ")?.SuggestedName);

    [Fact]
    public void A_User_Is_Only_Warned_When_The_Name_Looks_Like_A_Robot()
    {
        Assert.Null(RobotName.Check(HarborAuthKind.User, "alice", "robot$"));
        var warning = RobotName.Check(HarborAuthKind.User, "robot$portal", "robot$");
        Assert.Null(warning?.SuggestedName);
        Assert.Contains("Robot account", warning!.Message, StringComparison.Ordinal);
    }
}
