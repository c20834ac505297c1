# syntax=docker/dockerfile:1
# HarborPortal: front-end assets (npm), build (.NET SDK), then the ASP.NET Core runtime only.
# Configuration is by environment variables only (Section__Key); no secret is in any layer.
# Compose example with PostgreSQL, two instances and nginx: deploy/docker-compose.yml (docs/operations.md).

# 1. Front-end packages, restored from the committed lock file and copied into wwwroot/lib. Architecture-independent,
#    so they are built once on the build machine's own platform.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY build/copy-assets.mjs build/
RUN node build/copy-assets.mjs

# 2. Build and publish on the build machine's platform, for the target's architecture (-a): only that architecture's
#    native libraries (SQLite) are published, not the ~65 MB for every other platform. The web project's own npm step
#    is skipped: wwwroot/lib is already there.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props HarborPortal.sln ./
COPY src/HarborPortal/HarborPortal.csproj src/HarborPortal/
# The Harbor simulator ships for `--demo` (docs/decisions/ADR-003).
COPY tests/HarborPortal.HarborSimulator/HarborPortal.HarborSimulator.csproj tests/HarborPortal.HarborSimulator/
RUN dotnet restore src/HarborPortal/HarborPortal.csproj -a $TARGETARCH -p:UseAppHost=false
COPY . .
COPY --from=assets /src/wwwroot/lib wwwroot/lib
# UseAppHost=false: the entry point is `dotnet HarborPortal.dll`, so no native launcher is needed.
RUN dotnet publish src/HarborPortal/HarborPortal.csproj -c Release -a $TARGETARCH --self-contained false \
      -p:UseAppHost=false -o /app --no-restore \
 && mkdir /data

# 3. Runtime: Ubuntu chiseled (no shell, no package manager, far fewer packages to patch), "extra" for ICU and
#    tzdata (Schedules:TimeZone takes IANA zones). It runs as the non-root `app` user; data on a volume, health checked
#    by the binary itself (no curl needed).
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra AS runtime
ARG VERSION=0.1.0
ARG REVISION=""
LABEL org.opencontainers.image.title="HarborPortal" \
      org.opencontainers.image.description="Vulnerability findings from Harbor container registries: sync, triage, export" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
COPY --from=build /app .
# The image has no shell to mkdir/chown with: the empty /data comes from the build stage, owned by `app` (uid 1654),
# so that a new named volume mounted there is writable too.
COPY --from=build --chown=1654:1654 /data /data
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    Portal__DataDirectory=/data
VOLUME ["/data"]
USER $APP_UID
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "HarborPortal.dll", "healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["dotnet", "HarborPortal.dll"]
