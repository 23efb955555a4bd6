#!/usr/bin/env bash
# A RabbitMQ node of the fault tests' own (AMQP 5682, management 15682), so that stopping
# the broker under load spares every other test using the machine's broker. Prints what to
# export; then run e.g. `python -m pytest tests/faults/test_broker_moments.py`.
#   tests/faults/own-broker.sh        start it (data in /tmp/sanctuary-faults-broker)
#   tests/faults/own-broker.sh stop   stop it
set -euo pipefail
source "$(dirname "$0")/../../deploy/local/bootstrap.sh"  # kill_if_homeless
DIR=/tmp/sanctuary-faults-broker
NODE="faults@$(hostname -s)"
ENV="export RABBITMQ_NODENAME=$NODE RABBITMQ_DIST_PORT=25682 RABBITMQ_MNESIA_BASE=$DIR/mnesia"
ENV+=" RABBITMQ_LOG_BASE=$DIR/log RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins"
ENV+=" RABBITMQ_CONFIG_FILE=$DIR/rabbitmq RABBITMQ_PID_FILE=$DIR/pid"
if [ "${1:-start}" = stop ]; then
  su rabbitmq -s /bin/sh -c "$ENV; /usr/lib/rabbitmq/bin/rabbitmqctl -q stop"
  exit
fi
kill_if_homeless "$NODE"
mkdir -p "$DIR/mnesia" "$DIR/log"
printf 'listeners.tcp.default = 5682\nmanagement.tcp.port = 15682\n' > "$DIR/rabbitmq.conf"
echo '[rabbitmq_management].' > "$DIR/enabled_plugins"
chown -R rabbitmq:rabbitmq "$DIR"
# more open files than su's 1024 (see deploy/local/bootstrap.sh)
su rabbitmq -s /bin/sh -c "$ENV; cd $DIR; ulimit -n 65536 2>/dev/null || ulimit -n \"\$(ulimit -Hn)\" 2>/dev/null
  /usr/lib/rabbitmq/bin/rabbitmq-server -detached" >/dev/null 2>&1 || true
for _ in $(seq 120); do
  rabbitmqctl -q -n "$NODE" await_startup --timeout 120 >/dev/null 2>&1 && break
  sleep 1
done
rabbitmqctl -q -n "$NODE" await_startup --timeout 10 >/dev/null || { echo "the node did not start; see $DIR/log" >&2; exit 1; }
cat <<EOF
export SANCTUARY_TEST_AMQP=amqp://guest:guest@127.0.0.1:5682
export SANCTUARY_TEST_RABBIT_API=http://127.0.0.1:15682/api
export SANCTUARY_TEST_RABBIT_NODE=$NODE
EOF
