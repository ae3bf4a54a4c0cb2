# Starts a throwaway Redis server on 127.0.0.1 and exports
# LLMOPS_TEST_REDIS_URL; the server and its folder are removed when the
# calling shell exits. Source this file, then call start_redis. Source it
# after .ci/postgres.sh: start_redis keeps the EXIT trap already set and
# adds its own cleanup in front.

redis_bin() {
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "installing Redis from Debian packages" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
  fi
  command -v redis-server
}

redis_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_redis() {
  local bin port earlier_trap
  bin=$(redis_bin)
  port=$(redis_free_port)
  REDIS_ROOT=$(mktemp -d /tmp/llmops-redis.XXXXXX)

  # No persistence: the server and its data go away with the folder.
  "$bin" --bind 127.0.0.1 --port "$port" --dir "$REDIS_ROOT" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_ROOT/redis.pid" --logfile "$REDIS_ROOT/server.log" \
    || { cat "$REDIS_ROOT/server.log" 2>/dev/null; return 1; }
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null \
    || { cat "$REDIS_ROOT/server.log"; return 1; }

  earlier_trap=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
  trap "stop_redis; ${earlier_trap}" EXIT
  export LLMOPS_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "$("$bin" --version | cut -d' ' -f1-3) on 127.0.0.1:$port"
}

stop_redis() {
  local pid
  if [ -f "$REDIS_ROOT/redis.pid" ]; then
    pid=$(cat "$REDIS_ROOT/redis.pid")
    kill "$pid" 2>/dev/null || true
    # The server still writes its log while it shuts down, so removing the
    # folder at once can fail. Wait up to 5 s for it to exit.
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  # A cleanup failure must not fail a run whose tests passed.
  rm -rf "$REDIS_ROOT" || true
}
