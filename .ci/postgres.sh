#!/usr/bin/env bash
# Start a private PostgreSQL cluster for the tests and print its URL on stdout (nothing else
# goes to stdout). Installs Debian's postgresql package with apt-get when no server is found.
# The cluster listens on 127.0.0.1 only, on a free port, with trust authentication for its one
# user; its data directory is printed on stderr with the command that stops it.
# Works as an ordinary user, and as root (the server then runs as the 'postgres' user, since
# PostgreSQL refuses to run as root).
#   usage: JOURNEYBRIDGE_TEST_POSTGRES_URL="$(bash .ci/postgres.sh)"
set -euo pipefail

find_bin() {
    local dir best=""
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && best="$dir"
    done
    if [ -z "$best" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        best="$(dirname "$(command -v initdb)")"
    fi
    printf '%s' "$best"
}

bin="$(find_bin)"
if [ -z "$bin" ]; then
    echo "postgres.sh: no PostgreSQL server found; installing Debian's postgresql" >&2
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "postgres.sh: need root or sudo to install" >&2; exit 1; }
        sudo="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
    bin="$(find_bin)"
    [ -n "$bin" ] || { echo "postgres.sh: postgresql installed but initdb not found" >&2; exit 1; }
fi

# run as root: PostgreSQL must run as an unprivileged user
as_server=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql \
        --shell /usr/sbin/nologin postgres
    as_server=(runuser -u postgres --)
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
data="$(mktemp -d "${TMPDIR:-/tmp}/journeybridge-pg.XXXXXX")"
chmod 700 "$data"
[ "${#as_server[@]}" -eq 0 ] || chown postgres: "$data"

"${as_server[@]}" "$bin/initdb" -D "$data/db" -U journeybridge --auth=trust -E UTF8 \
    --no-locale >"$data/initdb.log" 2>&1 || { cat "$data/initdb.log" >&2; exit 1; }
"${as_server[@]}" "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off" start >&2 \
    || { cat "$data/server.log" >&2; exit 1; }
"$bin/createdb" -h 127.0.0.1 -p "$port" -U journeybridge journeybridge >&2

echo "postgres.sh: PostgreSQL on 127.0.0.1:$port, data in $data; stop with:" >&2
echo "  ${as_server[*]} $bin/pg_ctl -D $data/db stop" >&2
echo "postgresql://journeybridge@127.0.0.1:$port/journeybridge"
