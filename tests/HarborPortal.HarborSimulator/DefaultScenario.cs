namespace HarborPortal.HarborSimulator;

/// <summary>Credentials seeded in <c>Scenarios/default.json</c> (and <c>large.json</c>) that tests and the demo use.</summary>
public static class DefaultScenario
{
    /// <summary>The good system robot, covering every project (<c>*</c> selector), read-only plus scan.</summary>
    public const string PortalRobot = "robot$harbor-portal";

    public const string PortalRobotSecret = "PortalSecret1234567890abcdefABCD";
}
