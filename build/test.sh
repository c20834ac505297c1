#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what is missing (Debian's Chromium for the browser
# tests, the npm packages for the front-end assets and the test identity provider), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_apt[*]} from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

export PORTAL_CHROMIUM_PATH="${PORTAL_CHROMIUM_PATH:-$(command -v chromium)}"

dotnet build HarborPortal.sln -c Release
status=0
dotnet test tests/HarborPortal.Tests -c Release --no-build --logger "console;verbosity=normal" --results-directory TestResults || status=$?
dotnet test tests/HarborPortal.BrowserTests -c Release --no-build --logger "console;verbosity=normal" --results-directory TestResults || status=$?
exit $status
