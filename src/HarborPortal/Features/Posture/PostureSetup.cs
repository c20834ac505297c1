namespace HarborPortal.Features.Posture;

public static class PostureSetup
{
    /// <summary>Harbor's security settings as findings: checks run after every full sync and on demand.</summary>
    public static IServiceCollection AddPosture(this IServiceCollection services)
    {
        services.AddOptions<PostureOptions>().BindConfiguration(PostureOptions.SectionName)
            .Validate(o => o.RobotExpiryWarningDays is >= 0 and <= 3650, "Posture:RobotExpiryWarningDays must be between 0 and 3650.")
            .ValidateOnStart();
        services.AddScoped<PostureAssessor>();
        services.AddScoped<PostureRunner>();
        return services;
    }
}
