#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what is missing (Debian's Chromium for the browser
# tests, PostgreSQL's server for the tests on PostgreSQL, nginx for the reverse proxy tests, the npm packages for the
# front-end assets and the test identity provider), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
# PostgreSQL's server binaries (initdb, pg_ctl): the tests start a throwaway cluster of their own on a loopback port.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1 || need_apt+=(postgresql postgresql-contrib)
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
run_tests() { # project, TRX prefix, extra arguments
  local project=$1 prefix=$2; shift 2
  dotnet test "$project" -c Release --no-build --results-directory TestResults \
    --logger "console;verbosity=normal" --logger "trx;LogFilePrefix=$prefix" "$@" || status=$?
}

run_tests tests/HarborPortal.Tests HarborPortal.Tests
# The integration tests again on PostgreSQL (each portal gets a database in a throwaway cluster the tests start).
# Tests that never touch the portal's database (the Harbor client and simulator, component rendering, the
# publish step, the migration tests, which cover both databases already) run once, above.
PORTAL_TEST_DATABASE=Postgres run_tests tests/HarborPortal.Tests HarborPortal.Tests.Postgres \
  --filter "FullyQualifiedName!~HarborPortal.Tests.Harbor.&FullyQualifiedName!~HarborPortal.Tests.HarborSimulator.&FullyQualifiedName!~HarborPortal.Tests.Components.&FullyQualifiedName!~HarborPortal.Tests.Deployment.&FullyQualifiedName!~HarborPortal.Tests.Data.&FullyQualifiedName!~IdentityProviderFixtureTests"
run_tests tests/HarborPortal.BrowserTests HarborPortal.BrowserTests

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
