#!/usr/bin/env bash
# The project's test command (README: `bash infra/test.sh`). On a machine with only the .NET SDK:
# installs the Debian packages in infra/apt-packages.txt that are missing, starts the test servers
# (RabbitMQ, s3rver), builds and runs every test in Pipeline.sln with TRX results, always stops the
# servers, and ends with one line "N passed, N failed, N skipped" summed from the TRX files.
# Exit status: non-zero if a test failed, a test project produced no results, or a step broke.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
results="${TEST_RESULTS_DIR:-$repo/artifacts/test-results}"
log() { echo "[test.sh] $*" >&2; }

command -v dotnet >/dev/null || { log "the .NET SDK is required (see README.md)"; exit 1; }
sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"

# ---- Debian packages: apt-get update only when something is missing ----------------------------
missing=()
while IFS= read -r line || [[ -n "$line" ]]; do
    package="${line%%#*}"
    package="${package//[[:space:]]/}"
    [[ -z "$package" ]] && continue
    dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
done <infra/apt-packages.txt
# s3rver needs node and npm; the machine image usually has them (NodeSource's nodejs bundles npm).
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- test servers: always stopped, whatever happens next ---------------------------------------
rm -rf "$results"
mkdir -p "$results"
trap 'bash infra/test-servers/stop.sh >"$results/stop-servers.log" 2>&1 || true' EXIT
bash infra/test-servers/start.sh

# ---- build and test ----------------------------------------------------------------------------
# The hang timeout turns a deadlocked test into a failed project instead of a CI run that never ends.
status=0
dotnet test Pipeline.sln \
    --logger trx --results-directory "$results" \
    --blame-hang-timeout 15m --blame-hang-dump-type none || status=$?

# ---- count what really ran ---------------------------------------------------------------------
# Test projects follow Directory.Build.props' rule: names ending in .Tests or IntegrationTests.
mapfile -t expected < <(dotnet sln Pipeline.sln list | grep -E '(\.Tests|IntegrationTests)\.csproj$' | xargs -n1 basename | sed 's/\.csproj$//' | sort)
passed=0 failed=0 skipped=0 found=()
value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; } # attribute $1 of <Counters>
shopt -s nullglob
for trx in "$results"/*.trx; do
    counters="$(grep -o '<Counters [^>]*>' "$trx")"
    passed=$((passed + $(value passed)))
    # error, timeout and aborted are failures too: a test that did not pass must not look green.
    failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
    skipped=$((skipped + $(value notExecuted)))
    outcome="$(sed -n 's/.*<ResultSummary outcome="\([A-Za-z]*\)".*/\1/p' "$trx")"
    project="$(grep -o 'Discovering: [A-Za-z0-9_.]*' "$trx" | head -n1 | cut -d' ' -f2 || true)"
    [[ -n "$project" ]] && found+=("$project")
    if [[ "$outcome" != Completed && "$outcome" != Failed ]]; then
        log "$(basename "$trx") (${project:-unknown project}): run outcome $outcome"
        status=1
    fi
done
mapfile -t absent < <(comm -23 <(printf '%s\n' "${expected[@]}") <(printf '%s\n' "${found[@]}" | sort -u))
if [[ ${#absent[@]} -gt 0 ]]; then
    log "no test results from: ${absent[*]} (crashed, or did not build)"
    status=1
fi
[[ $failed -eq 0 ]] || status=1
log "TRX files in $results"

echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
