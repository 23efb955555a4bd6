# Sourced by ./run and ./run-tests: installs and starts what the project needs on
# a Debian machine where we are root, and does nothing that is already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
APT_UPDATED=""

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python311() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 is required (python3.11 or python3)" >&2; return 1
}

ensure_venv() {
  local py stamp want
  py="$(python311)"
  if [ ! -x "$VENV/bin/python" ]; then
    "$py" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; rm -rf "$VENV"; "$py" -m venv "$VENV"; }
  fi
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  stamp="$VENV/.installed-$want"
  if [ ! -f "$stamp" ]; then
    say "installing Python packages into .venv"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
    rm -f "$VENV"/.installed-*; touch "$stamp"
  fi
}

# -detached returns before the node has registered with epmd, and await_startup
# fails at once ("not running at all") until it has: poll first, then await boot.
wait_for_rabbitmq() {
  local tries=0
  until rabbitmq-diagnostics -q ping >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
      echo "RabbitMQ did not start in 120 s; see /var/log/rabbitmq/" >&2; return 1
    fi
    sleep 1
  done
  rabbitmqctl -q await_startup --timeout 120 >/dev/null
}

# A RabbitMQ node keeps the working directory it was started in. Started from a checkout that
# is later deleted (a CI clone), it can no longer spawn a command: `status`, `stop` and
# `stop_app` then fail (enoent) and the fault tests cannot stop it. Every node is therefore
# started from its own data folder, and one already left in that state is killed here (its `stop`
# fails the same way) so that it is started again. Usage: kill_if_homeless [node]
kill_if_homeless() {
  local node=(${1:+-n "$1"}) pid
  rabbitmqctl -q "${node[@]}" ping >/dev/null 2>&1 || return 0
  rabbitmqctl -q "${node[@]}" status >/dev/null 2>&1 && return 0
  pid=$(rabbitmqctl -q "${node[@]}" eval 'list_to_integer(os:getpid()).' 2>/dev/null || true)
  say "RabbitMQ node ${1:-rabbit} cannot run commands (its folder was deleted): restarting it"
  [ -n "$pid" ] || { echo "cannot find RabbitMQ node ${1:-rabbit}'s process: stop it by hand" >&2; return 1; }
  kill -9 "$pid"
  while rabbitmqctl -q "${node[@]}" ping >/dev/null 2>&1; do sleep 1; done
}

# Debian's rabbitmq-server wrapper becomes the rabbitmq user through su, whose PAM limits
# leave it 1024 open files: RabbitMQ then takes at most 832 sockets, and past them accepts
# no new connection (its file descriptor alarm) while clients wait in the handshake. A few
# systems starting at once got there (issue 23's start hang), so start it with more.
start_rabbitmq() {
  su rabbitmq -s /bin/sh -c 'cd /var/lib/rabbitmq; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
    exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached' >/dev/null 2>&1 || true
}

warn_if_rabbitmq_starved() {
  local beam files
  beam=$(pgrep -o -u rabbitmq beam.smp || true)
  [ -n "$beam" ] || return 0
  files=$(awk '/Max open files/ {print $4}' "/proc/$beam/limits" 2>/dev/null || echo 65536)
  if [ "$files" -lt 4096 ] 2>/dev/null; then
    echo "warning: RabbitMQ may open only $files files (about $((files * 81 / 100)) connections);" \
         "stop it (rabbitmqctl stop) and run this again to start it with more" >&2
  fi
}

ensure_rabbitmq() {
  apt_install rabbitmq-server
  kill_if_homeless
  if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    say "starting RabbitMQ"
    rabbitmq-plugins -q enable --offline rabbitmq_management rabbitmq_prometheus >/dev/null
    start_rabbitmq
    wait_for_rabbitmq
  fi
  warn_if_rabbitmq_starved
  # the tests make a virtual host per test through the management API;
  # rabbitmq_prometheus serves the broker's own metrics on :15692
  rabbitmq-plugins -q enable rabbitmq_management rabbitmq_prometheus >/dev/null 2>&1 || true
}

# promtool checks our Prometheus configuration, alert rules and exposition text;
# the tests also run a real Prometheus against a running system.
# the browser tests drive Debian's Chromium (Playwright's own browser download
# cannot run here); Liberation Sans stands in for the pages' Arial
ensure_chromium() {
  apt_install chromium fonts-liberation
}

ensure_prometheus() {
  apt_install prometheus
}

# amtool checks the Alertmanager configuration (deploy/alertmanager); the alert-email test
# runs a real Alertmanager between a real Prometheus and the test's mail sink
ensure_alertmanager() {
  apt_install prometheus-alertmanager
}

# `nginx -t` checks deploy/nginx/sanctuary.conf; nothing here starts nginx
ensure_nginx() {
  apt_install nginx-light
}

ensure_postgres() {
  apt_install postgresql
  local version
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  pg_lsclusters -h | grep -q "^$version main" || pg_createcluster "$version" main >/dev/null
  if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    say "starting PostgreSQL $version"
    pg_ctlcluster "$version" main start
  fi
  local psql=(runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA)
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'sanctuary'")" ]; then
    "${psql[@]}" -c "CREATE ROLE sanctuary LOGIN PASSWORD 'sanctuary' CREATEDB"
  fi
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'sanctuary_test'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE sanctuary_test OWNER sanctuary"
  fi
  # the services' role (deploy/postgres/roles.sql): it may only read and insert in the tables
  # sanctuary owns; the tests connect the applications as it
  if [ -z "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname = 'sanctuary_service'")" ]; then
    "${psql[@]}" -c "CREATE ROLE sanctuary_service LOGIN PASSWORD 'sanctuary_service'"
  fi
  "${psql[@]}" -d sanctuary_test -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
}

# A three-node RabbitMQ cluster beside the machine's broker (which it leaves alone), for the
# test that stops a node under load (tests/faults/test_broker_cluster.py): nodes rabbit-a, -b and
# -c @localhost, AMQP on 5684-5686, management on 15684-15686, Erlang distribution on 25684-25686,
# data under $CLUSTER_DIR. They share the rabbitmq user's Erlang cookie (as the machine's broker
# does) and run with 65536 open files (see start_rabbitmq). Nodes already running are left as they
# are; a node not yet in the cluster joins rabbit-a's.
CLUSTER_DIR="${SANCTUARY_CLUSTER_DIR:-/var/lib/sanctuary/rabbitmq-cluster}"
CLUSTER_NODES=(a:5684 b:5685 c:5686)

cluster_node() { echo "rabbit-$1@localhost"; }

cluster_node_env() {
  local name="$1" port="$2" dir="$CLUSTER_DIR/$1"
  printf 'export RABBITMQ_NODENAME=%s RABBITMQ_NODE_PORT=%s RABBITMQ_DIST_PORT=%s' \
    "$(cluster_node "$name")" "$port" "$((port + 20000))"
  printf ' RABBITMQ_MNESIA_BASE=%s RABBITMQ_LOG_BASE=%s' "$dir/mnesia" "$dir/log"
  printf ' RABBITMQ_CONFIG_FILE=%s RABBITMQ_ENABLED_PLUGINS_FILE=%s RABBITMQ_PID_FILE=%s' \
    "$dir/rabbitmq" "$dir/enabled_plugins" "$dir/pid"
  # idle schedulers sleep instead of spinning: three more nodes on a shared 2-core machine
  printf ' RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"'
}

cluster_node_running() {
  rabbitmq-diagnostics -q -n "$(cluster_node "$1")" ping >/dev/null 2>&1
}

start_cluster_node() {
  local name="$1" port="$2" dir="$CLUSTER_DIR/$1"
  mkdir -p "$dir/mnesia" "$dir/log"
  printf 'cluster_name = sanctuary-test\nlisteners.tcp.default = %s\nmanagement.tcp.port = %s\n' \
    "$port" "$((port + 10000))" > "$dir/rabbitmq.conf"
  echo '[rabbitmq_management].' > "$dir/enabled_plugins"
  rm -f "$dir/pid"  # `rabbitmqctl wait` waits for the new node's pid file
  chown -R rabbitmq:rabbitmq "$CLUSTER_DIR"
  su rabbitmq -s /bin/sh -c "$(cluster_node_env "$name" "$port"); cd $dir
    ulimit -n 65536 2>/dev/null || ulimit -n \"\$(ulimit -Hn)\" 2>/dev/null
    exec /usr/lib/rabbitmq/bin/rabbitmq-server -detached" >/dev/null 2>&1 || true
}

# `wait` waits for the pid file the node writes as it boots, then for the node to have started
wait_for_cluster_node() {
  local name="$1"
  rabbitmqctl -q -n "$(cluster_node "$name")" wait --timeout 120 "$CLUSTER_DIR/$name/pid" >/dev/null ||
    { echo "RabbitMQ node $(cluster_node "$name") did not start; see $CLUSTER_DIR/$name/log" >&2; return 1; }
}

join_cluster_node() {
  local node first
  node="$(cluster_node "$1")" first="$(cluster_node a)"
  rabbitmqctl -q -n "$first" cluster_status | grep -q "$node" && return 0
  say "joining $node to $first's cluster"
  local out  # the joining node's boot log comes out on stderr: shown only when the join fails
  out=$(rabbitmqctl -q -n "$node" stop_app 2>&1 && rabbitmqctl -q -n "$node" reset 2>&1 &&
        rabbitmqctl -q -n "$node" join_cluster "$first" 2>&1 && rabbitmqctl -q -n "$node" start_app 2>&1 &&
        rabbitmqctl -q -n "$node" await_startup --timeout 120 2>&1) ||
    { echo "$out" >&2; echo "$node could not join $first's cluster" >&2; return 1; }
}

ensure_rabbitmq_cluster() {
  apt_install rabbitmq-server
  local entry name port started=()
  # all stopped nodes start together: a clustered node that boots waits for its peers
  for entry in "${CLUSTER_NODES[@]}"; do
    name="${entry%%:*}" port="${entry##*:}"
    kill_if_homeless "$(cluster_node "$name")"
    cluster_node_running "$name" && continue
    say "starting RabbitMQ node $(cluster_node "$name") (AMQP $port)"
    start_cluster_node "$name" "$port"
    started+=("$name")
  done
  for name in "${started[@]}"; do wait_for_cluster_node "$name"; done
  for entry in "${CLUSTER_NODES[@]:1}"; do join_cluster_node "${entry%%:*}"; done
}
