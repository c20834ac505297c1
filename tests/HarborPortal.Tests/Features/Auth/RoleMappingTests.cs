using HarborPortal.Features.Auth;

namespace HarborPortal.Tests.Features.Auth;

public sealed class RoleMappingTests
{
    private static readonly Dictionary<string, string> Mappings = new()
    {
        ["harbor-portal-admins"] = "Admin",
        ["harbor-portal-security"] = "Security",
        ["harbor-portal-developers"] = "Developer",
        ["harbor-portal-viewers"] = "Viewer",
    };

    [Fact]
    public void A_Mapped_Group_Gives_Its_Role()
    {
        Assert.Equal(["Security"], RoleMapping.Map(["harbor-portal-security"], Mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void Group_Names_Match_Regardless_Of_Case()
    {
        Assert.Equal(["Admin"], RoleMapping.Map(["Harbor-Portal-ADMINS"], Mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void Mapping_Keys_Match_Regardless_Of_Case_Even_With_A_Case_Sensitive_Dictionary()
    {
        var mappings = new Dictionary<string, string>(StringComparer.Ordinal) { ["Portal-Admins"] = "Admin" };

        Assert.Equal(["Admin"], RoleMapping.Map(["portal-admins"], mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void Several_Groups_Give_Several_Roles_Most_Powerful_First()
    {
        var result = RoleMapping.Map(["harbor-portal-viewers", "harbor-portal-developers", "harbor-portal-admins"], Mappings, requireMappedGroup: false);

        Assert.Equal(["Admin", "Developer", "Viewer"], result.Roles);
    }

    [Fact]
    public void Two_Groups_Mapped_To_One_Role_Give_It_Once()
    {
        var mappings = new Dictionary<string, string> { ["a"] = "Security", ["b"] = "security" };

        Assert.Equal(["Security"], RoleMapping.Map(["a", "b"], mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void A_User_In_No_Mapped_Group_Is_A_Viewer()
    {
        var result = RoleMapping.Map(["staff"], Mappings, requireMappedGroup: false);

        Assert.Equal(["Viewer"], result.Roles);
        Assert.False(result.IsRefused);
    }

    [Fact]
    public void A_User_With_No_Groups_Is_A_Viewer()
    {
        Assert.Equal(["Viewer"], RoleMapping.Map([], Mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void A_User_In_No_Mapped_Group_Is_Refused_When_A_Mapped_Group_Is_Required()
    {
        var result = RoleMapping.Map(["staff"], Mappings, requireMappedGroup: true);

        Assert.True(result.IsRefused);
        Assert.Empty(result.Roles);
    }

    [Fact]
    public void A_User_In_A_Group_Mapped_To_Viewer_Is_Not_Refused_When_A_Mapped_Group_Is_Required()
    {
        var result = RoleMapping.Map(["harbor-portal-viewers"], Mappings, requireMappedGroup: true);

        Assert.False(result.IsRefused);
        Assert.Equal(["Viewer"], result.Roles);
    }

    [Fact]
    public void Unmatched_Groups_Are_Reported()
    {
        var result = RoleMapping.Map(["staff", "harbor-portal-admins", "vpn-users"], Mappings, requireMappedGroup: false);

        Assert.Equal(["staff", "vpn-users"], result.UnmatchedGroups);
    }

    [Fact]
    public void Role_Names_Are_Normalised()
    {
        var mappings = new Dictionary<string, string> { ["ops"] = " admin " };

        Assert.Equal(["Admin"], RoleMapping.Map(["ops"], mappings, requireMappedGroup: false).Roles);
    }

    [Fact]
    public void A_Mapping_To_An_Unknown_Role_Grants_Nothing()
    {
        var mappings = new Dictionary<string, string> { ["ops"] = "Superuser" };

        var result = RoleMapping.Map(["ops"], mappings, requireMappedGroup: false);

        Assert.Equal(["Viewer"], result.Roles);
        Assert.Equal(["ops=Superuser"], RoleMapping.InvalidMappings(mappings));
    }
}
