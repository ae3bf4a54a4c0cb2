# Starts a throwaway PostgreSQL server on 127.0.0.1 and exports
# LLMOPS_TEST_POSTGRES_URL; the server and its data folder are removed when
# the calling shell exits. Source this file, then call start_postgres.

postgres_bin() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$initdb" ]; then
    echo "installing PostgreSQL from Debian packages" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  fi
  dirname "$initdb"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_postgres() {
  local bin port owner as_owner
  bin=$(postgres_bin)
  port=$(free_port)
  PG_DATA_ROOT=$(mktemp -d /tmp/llmops-pg.XXXXXX)

  # PostgreSQL refuses to run as root, so a root shell runs it as the
  # postgres user (created when missing).
  as_owner=()
  if [ "$(id -u)" = 0 ]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home "$owner"
    chown "$owner" "$PG_DATA_ROOT"
    as_owner=(runuser -u "$owner" --)
  fi

  "${as_owner[@]}" "$bin/initdb" -D "$PG_DATA_ROOT/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$PG_DATA_ROOT/initdb.log" 2>&1 \
    || { cat "$PG_DATA_ROOT/initdb.log"; return 1; }
  "${as_owner[@]}" "$bin/pg_ctl" -D "$PG_DATA_ROOT/data" -l "$PG_DATA_ROOT/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $PG_DATA_ROOT -c max_connections=300 -c fsync=off" start >/dev/null \
    || { cat "$PG_DATA_ROOT/server.log"; return 1; }

  PG_STOP=("${as_owner[@]}" "$bin/pg_ctl" -D "$PG_DATA_ROOT/data" -m fast stop)
  trap 'stop_postgres' EXIT
  export LLMOPS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "$("$bin/postgres" --version) on 127.0.0.1:$port"
}

stop_postgres() {
  "${PG_STOP[@]}" >/dev/null 2>&1 || true
  # A cleanup failure must not fail a run whose tests passed.
  rm -rf "$PG_DATA_ROOT" || true
}
