#!/usr/bin/env bash
# Starts the servers the integration tests need, on 127.0.0.1 only:
#   - RabbitMQ (Debian package), run from a private data dir: no /etc, no /var, no system service;
#   - s3rver 3.7.1 (npm, pinned) with our reviewed fixes in patches/, as the S3-compatible store.
# Installs what is missing, waits until both answer, then writes the connection settings to
# <repo>/.test-servers/settings.json (read by tests) and <repo>/.test-servers/env.sh (for shells).
# Idempotent: servers that are already up are reused. Stop them with stop.sh.
# Credentials here are throw-away development defaults for loopback-only test servers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${PIPELINE_TEST_SERVERS_DIR:-$repo/.test-servers}"
mkdir -p "$state"

log() { echo "[test-servers] $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# A port nobody listens on now (the kernel picks it), so several checkouts on one machine (and a
# system RabbitMQ on 5672) never collide; tests read the chosen ports from settings.json.
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ---- install what is missing ------------------------------------------------------------------
if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]] || ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing rabbitmq-server / nodejs"
    apt-get update -qq
    pkgs=(rabbitmq-server)
    command -v node >/dev/null || pkgs+=(nodejs)
    command -v npm >/dev/null || pkgs+=(npm)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# node_modules is rebuilt whenever package-lock.json or a patch changes (npm ci runs patch-package).
stamp="$(cat "$here/package-lock.json" "$here"/patches/*.patch | sha256sum | cut -c1-16)"
if [[ "$(cat "$here/node_modules/.pipeline-stamp" 2>/dev/null)" != "$stamp" ]]; then
    log "npm ci (s3rver + patches)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$stamp" >"$here/node_modules/.pipeline-stamp"
fi

# ---- ports ------------------------------------------------------------------------------------
# Kept while a server of ours runs (so it can be reused); picked anew when none does, in case
# another program took one of the old ports meanwhile.
if ! alive "$state/rabbitmq/server.pgid" && ! alive "$state/s3rver/server.pgid"; then
    rm -f "$state/ports.env" "$state/credentials.env"
fi
if [[ ! -f "$state/ports.env" ]]; then
    cat >"$state/ports.env" <<EOF
AMQP_PORT=$(free_port)
DIST_PORT=$(free_port)
EPMD_PORT=$(free_port)
S3_PORT=$(free_port)
EOF
fi
# shellcheck source=/dev/null
source "$state/ports.env"

# ---- credentials ------------------------------------------------------------------------------
# Drawn at random with the ports and kept as long as they are: secrets nobody else knows, so a test can look for them in
# everything a run writes (a fixed well-known value could turn up for other reasons).
random_hex() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [[ ! -f "$state/credentials.env" ]]; then
    cat >"$state/credentials.env" <<EOF
RABBITMQ_USER=pipeline-test
RABBITMQ_PASSWORD=$(random_hex)
S3_ACCESS_KEY=pipeline-test
S3_SECRET_KEY=$(random_hex)
EOF
    chmod 600 "$state/credentials.env"
fi
# shellcheck source=/dev/null
source "$state/credentials.env"

# ---- RabbitMQ ---------------------------------------------------------------------------------
rabbit="$state/rabbitmq"
# Everything RabbitMQ and its CLI read, pointed into $rabbit (the /usr/sbin wrappers would switch
# user and use /etc and /var). epmd is ours too, on its own port, so it dies with the broker.
export HOME="$rabbit/home"
export ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$EPMD_PORT"
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$AMQP_PORT" RABBITMQ_DIST_PORT="$DIST_PORT"
export RABBITMQ_MNESIA_BASE="$rabbit/mnesia" RABBITMQ_LOG_BASE="$rabbit/log"
export RABBITMQ_PID_FILE="$rabbit/rabbitmq.pid"
export RABBITMQ_CONFIG_FILE="$rabbit/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$rabbit/enabled_plugins"
export RABBITMQ_CONF_ENV_FILE="$rabbit/rabbitmq-env.conf"
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

if alive "$rabbit/server.pgid" && /usr/lib/rabbitmq/bin/rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    log "RabbitMQ already running on 127.0.0.1:$AMQP_PORT"
else
    "$here/stop.sh" rabbitmq >/dev/null 2>&1 || true # leftovers of a crashed run
    # PIPELINE_TEST_RABBITMQ_KEEP_DATA=1 restarts a stopped node on its data dir (queues and persistent messages
    # kept; its ports stay while s3rver runs): how a broker-restart test brings its private broker back.
    if [[ "${PIPELINE_TEST_RABBITMQ_KEEP_DATA:-}" == 1 && -d "$RABBITMQ_MNESIA_BASE" ]]; then
        log "restarting RabbitMQ on its data dir $RABBITMQ_MNESIA_BASE"
        rm -f "$RABBITMQ_PID_FILE" # the readiness wait below must see the new node's pid, not the old one's
    else
        rm -rf "$rabbit" # a fresh node boots in ~5 s and carries no queues from earlier runs
        mkdir -p "$HOME" "$RABBITMQ_LOG_BASE"
        # Erlang refuses a cookie readable by others.
        head -c 20 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$HOME/.erlang.cookie"
        chmod 400 "$HOME/.erlang.cookie"
        printf '%s\n' "default_user = $RABBITMQ_USER" "default_pass = $RABBITMQ_PASSWORD" >"$RABBITMQ_CONFIG_FILE"
        echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
        : >"$RABBITMQ_CONF_ENV_FILE"
    fi

    log "starting epmd on 127.0.0.1:$EPMD_PORT"
    setsid epmd -address 127.0.0.1 -port "$EPMD_PORT" </dev/null >"$rabbit/log/epmd.log" 2>&1 &
    echo $! >"$rabbit/epmd.pid"

    log "starting RabbitMQ on 127.0.0.1:$AMQP_PORT"
    # setsid: the broker and its helpers (beam, erl_child_setup, inet_gethost) share one process
    # group whose id is the pid we record, so stop.sh can end them all.
    setsid /usr/lib/rabbitmq/bin/rabbitmq-server </dev/null >"$rabbit/log/console.log" 2>&1 &
    echo $! >"$rabbit/server.pgid"

    # Blocks until the node in the pid file has booted, or fails if it dies.
    for _ in $(seq 1 50); do [[ -s "$RABBITMQ_PID_FILE" ]] && break; sleep 0.2; done
    if ! timeout 90 /usr/lib/rabbitmq/bin/rabbitmqctl -q wait --timeout 80 "$RABBITMQ_PID_FILE" >/dev/null 2>"$rabbit/log/wait.err"; then
        log "RabbitMQ did not start; last lines of its log:"
        tail -n 30 "$rabbit/log/console.log" "$rabbit/log/wait.err" >&2 || true
        exit 1
    fi
    log "RabbitMQ ready"
fi

# ---- s3rver -----------------------------------------------------------------------------------
s3="$state/s3rver"
probe_s3() { node -e 'require("http").get(process.argv[1],r=>process.exit(0)).on("error",()=>process.exit(1))' "http://127.0.0.1:$S3_PORT/"; }

if alive "$s3/server.pgid" && probe_s3; then
    log "s3rver already running on 127.0.0.1:$S3_PORT"
else
    "$here/stop.sh" s3rver >/dev/null 2>&1 || true
    rm -rf "$s3"
    mkdir -p "$s3/data"
    log "starting s3rver on 127.0.0.1:$S3_PORT"
    # The legacy provider brings back DES, which s3rver uses for listing continuation tokens
    # (listings over 1000 keys fail without it).
    S3RVER_ACCESS_KEY_ID="$S3_ACCESS_KEY" S3RVER_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
        NODE_OPTIONS=--openssl-legacy-provider setsid node "$here/node_modules/s3rver/bin/s3rver.js" \
        --directory "$s3/data" --address 127.0.0.1 --port "$S3_PORT" --silent --no-vhost-buckets \
        </dev/null >"$s3/server.log" 2>&1 &
    echo $! >"$s3/server.pgid"
    for _ in $(seq 1 100); do probe_s3 && break; sleep 0.1; done
    if ! probe_s3; then
        log "s3rver did not start:"
        tail -n 30 "$s3/server.log" >&2 || true
        exit 1
    fi
    log "s3rver ready"
fi

# ---- connection settings ----------------------------------------------------------------------
cat >"$state/settings.json" <<EOF
{
  "RabbitMq": { "Host": "127.0.0.1", "Port": $AMQP_PORT, "VirtualHost": "/", "Username": "$RABBITMQ_USER", "Password": "$RABBITMQ_PASSWORD" },
  "Storage": {
    "Kind": "S3",
    "S3": { "Endpoint": "127.0.0.1:$S3_PORT", "AccessKey": "$S3_ACCESS_KEY", "SecretKey": "$S3_SECRET_KEY", "Region": "us-east-1", "UseTls": false }
  },
  "RabbitMqCtl": {
    "Path": "/usr/lib/rabbitmq/bin/rabbitmqctl",
    "Environment": { "HOME": "$HOME", "ERL_EPMD_PORT": "$EPMD_PORT", "RABBITMQ_NODENAME": "$RABBITMQ_NODENAME" }
  }
}
EOF
cat >"$state/env.sh" <<EOF
# source this file to talk to the test servers from a shell
export PIPELINE_TEST_SERVERS_SETTINGS="$state/settings.json"
export PIPELINE_TEST_RABBITMQ_URI="amqp://$RABBITMQ_USER:$RABBITMQ_PASSWORD@127.0.0.1:$AMQP_PORT/"
export PIPELINE_TEST_S3_ENDPOINT="127.0.0.1:$S3_PORT"
rabbitmqctl() { HOME="$HOME" ERL_EPMD_PORT="$EPMD_PORT" RABBITMQ_NODENAME="$RABBITMQ_NODENAME" /usr/lib/rabbitmq/bin/rabbitmqctl "\$@"; }
EOF
log "settings written to $state/settings.json"
