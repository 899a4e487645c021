#!/usr/bin/env bash
# Stops the test servers started by start.sh, by the process-group ids it recorded, so no broker,
# epmd, erl_child_setup or node process outlives them. Usage: stop.sh [rabbitmq] [s3rver] (default both).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${PIPELINE_TEST_SERVERS_DIR:-$repo/.test-servers}"

# Sends TERM to the process group in $1, waits up to $2 seconds, then KILLs what is left.
stop_group() {
    local file="$1" grace="$2" pgid
    [[ -f "$file" ]] || return 0
    pgid="$(cat "$file")"
    if kill -TERM -- "-$pgid" 2>/dev/null; then
        for _ in $(seq 1 $((grace * 10))); do
            kill -0 -- "-$pgid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
    rm -f "$file"
}

components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(rabbitmq s3rver)
for component in "${components[@]}"; do
    case "$component" in
        rabbitmq)
            # The broker first (TERM = orderly shutdown of the Erlang VM), then its private epmd.
            stop_group "$state/rabbitmq/server.pgid" 20
            stop_group "$state/rabbitmq/epmd.pid" 5
            ;;
        s3rver) stop_group "$state/s3rver/server.pgid" 5 ;;
        *) echo "unknown component: $component" >&2; exit 2 ;;
    esac
    echo "[test-servers] $component stopped" >&2
done
