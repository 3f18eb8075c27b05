# Shared by scripts/test and bench/run: a private PostgreSQL and Redis on free
# loopback ports in a temporary folder, installed with apt-get when missing and
# stopped (folder removed) when the calling script exits.
# After `services_start PREFIX`: PG_PORT, REDIS_PORT, RUN_DIR, PG_BIN are set.

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  done
  command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)"
}

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
pg_as() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

services_stop() {
  local code=$?
  local pidfile
  # The run's Redis, and those of parallel test workers (tests/parallel.py) left by a crash.
  for pidfile in "$RUN_DIR"/redis.pid "$RUN_DIR"/*/redis.pid; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  pg_as "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$RUN_DIR"
  exit "$code"
}

services_start() {
  local prefix="$1"
  PG_BIN="$(find_pg_bin || true)"
  if [ -z "$PG_BIN" ]; then apt_install postgresql; PG_BIN="$(find_pg_bin)"; fi
  command -v redis-server >/dev/null || apt_install redis-server

  RUN_DIR="$(mktemp -d "/tmp/$prefix.XXXXXX")"
  chmod 755 "$RUN_DIR"
  PG_PORT="$(free_port)"
  REDIS_PORT="$(free_port)"
  trap services_stop EXIT INT TERM

  echo "==> PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
  mkdir -p "$RUN_DIR/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$RUN_DIR/pg"
  pg_as "$PG_BIN/initdb" -D "$RUN_DIR/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  pg_as "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -l "$RUN_DIR/pg/server.log" -w -o \
    "-p $PG_PORT -k $RUN_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null

  echo "==> Redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$RUN_DIR/redis.pid" --logfile "$RUN_DIR/redis.log"
  local _
  for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "FAIL: Redis did not start on port $REDIS_PORT (log: $RUN_DIR/redis.log)"
  exit 1
}

# nginx with Debian's brotli module (the packages deploy/nginx.Dockerfile builds into
# compose's nginx) and supervisord for scripts/stack and the end-to-end tests
# (tests/stack/), installed with apt-get when missing. Those run their own nginx and
# supervisord, from their own configuration files, whatever the packages set up for the system.
stack_packages_ensure() {
  local missing=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  # deploy/nginx.conf.template loads it by this path.
  [ -f /usr/lib/nginx/modules/ngx_http_brotli_static_module.so ] || missing+=(libnginx-mod-http-brotli-static)
  # deploy/nginx-start.sh's, which tests/test_topology.py runs.
  command -v envsubst >/dev/null || missing+=(gettext-base)
  command -v supervisord >/dev/null || missing+=(supervisor)
  if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
  # Debian installs nginx in /usr/sbin, which a non-root PATH may lack.
  case ":$PATH:" in *:/usr/sbin:*) ;; *) export PATH="$PATH:/usr/sbin" ;; esac
}
