using Microsoft.AspNetCore.Authentication;

namespace HarborPortal.Features.Auth;

public static class ApiTokenAuthenticationExtensions
{
    public static AuthenticationBuilder AddApiTokens(this AuthenticationBuilder builder) => builder;
}
