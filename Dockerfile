# syntax=docker/dockerfile:1
# HarborPortal: front-end assets (npm), build (.NET SDK), then the ASP.NET Core runtime only.

# 1. Front-end packages, restored from the committed lock file and copied into wwwroot/lib.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY build/copy-assets.mjs build/
RUN node build/copy-assets.mjs

# 2. Build and publish. The web project's own npm step is skipped: wwwroot/lib is already there.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props HarborPortal.sln ./
COPY src/HarborPortal/HarborPortal.csproj src/HarborPortal/
# The Harbor simulator ships for `--demo` (docs/decisions/ADR-003).
COPY tests/HarborPortal.HarborSimulator/HarborPortal.HarborSimulator.csproj tests/HarborPortal.HarborSimulator/
RUN dotnet restore src/HarborPortal/HarborPortal.csproj
COPY . .
COPY --from=assets /src/wwwroot/lib wwwroot/lib
RUN dotnet publish src/HarborPortal/HarborPortal.csproj -c Release -o /app --no-restore

# 3. Runtime: non-root, data on a volume, health checked.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Portal__DataDirectory=/data \
    DOTNET_RUNNING_IN_CONTAINER=true
RUN mkdir -p /data && chown app:app /data
VOLUME ["/data"]
USER app
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "HarborPortal.dll", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["dotnet", "HarborPortal.dll"]
