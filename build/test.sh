#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what is missing (Debian's Chromium for the browser
# tests, nginx for the reverse proxy tests, the npm packages for the front-end assets and the test identity
# provider), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The reverse proxy tests run deploy/nginx/nginx.conf in Debian's nginx (/usr/sbin is not on every PATH).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
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
rm -rf TestResults
status=0
for project in tests/HarborPortal.Tests tests/HarborPortal.BrowserTests; do
  dotnet test "$project" -c Release --no-build --results-directory TestResults \
    --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=$(basename "$project")" || status=$?
done

# One closing line over both projects, read from the TRX reports.
passed=0; failed=0; skipped=0
for trx in TestResults/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*' "$trx")
  passed=$((passed + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")))
  failed=$((failed + $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")))
  skipped=$((skipped + $(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")))
done
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
