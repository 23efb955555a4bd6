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

# Debian's rabbitmq-server wrapper becomes the rabbitmq user through su, whose PAM limits
# leave it 1024 open files: RabbitMQ then takes at most 832 sockets, and past them accepts
# no new connection (its file descriptor alarm) while clients wait in the handshake. A few
# systems starting at once got there (issue 23's start hang), so start it with more.
start_rabbitmq() {
  su rabbitmq -s /bin/sh -c 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
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
