namespace HarborPortal.Features.Connections;

public static class ConnectionsSetup
{
    /// <summary>Connection rules, the encrypted secrets, and the optional outbound allow-list (checked at start).</summary>
    public static IServiceCollection AddHarborConnections(this IServiceCollection services)
    {
        services.AddOptions<ConnectionsOptions>()
            .BindConfiguration(ConnectionsOptions.SectionName)
            .Validate(o => !o.InvalidTargets().Any(), "Connections:AllowedTargets holds an entry that is neither a host name, an IP address nor a CIDR range (e.g. 10.0.0.0/8).")
            .ValidateOnStart();
        services.AddSingleton<ConnectionSecrets>();
        services.AddSingleton<OutboundAllowList>();
        services.AddOptions<HarborPortal.Harbor.HarborClientOptions>()
            .Configure<OutboundAllowList>((client, allowList) => client.AllowTarget = allowList.IsRestricted ? allowList.IsAllowed : null);
        services.AddScoped<ConnectionCommands>();
        services.AddSingleton<ConnectivityCheck>();
        services.AddScoped<ConnectionVerifier>();
        services.AddScoped<VerificationRunner>();
        return services;
    }
}
