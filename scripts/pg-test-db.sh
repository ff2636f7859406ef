#!/usr/bin/env bash
# A PostgreSQL database for the store contract tests and the claims benchmark, on this machine's
# PostgreSQL 15: installs it if missing (Debian's postgresql-15), starts the cluster if it is down,
# and creates the role and the database if they are not there yet. Safe to run again. Needs root.
# Prints the URL to use as LANEKEEPER_TEST_PG_URL:
#
#   export LANEKEEPER_TEST_PG_URL="$(bash scripts/pg-test-db.sh)"
#   npx vitest run test/store/contract.test.ts
set -euo pipefail
VERSION=15
ROLE=lanekeeper
PASSWORD=lanekeeper
DB=lanekeeper_test
PORT=5432

if [ ! -x "/usr/lib/postgresql/$VERSION/bin/postgres" ]; then
  apt-get install -y "postgresql-$VERSION" >&2 || { apt-get update >&2 && apt-get install -y "postgresql-$VERSION" >&2; }
fi
if [ ! -d "/etc/postgresql/$VERSION/main" ]; then
  pg_createcluster "$VERSION" main --port "$PORT" >&2
fi
# pg_ctlcluster start fails when the cluster already runs: ask first.
if ! pg_ctlcluster "$VERSION" main status >/dev/null 2>&1; then
  pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { echo "PostgreSQL $VERSION did not come up on 127.0.0.1:$PORT" >&2; exit 1; }

as_postgres() { runuser -u postgres -- "$@"; }
as_postgres psql -q -v ON_ERROR_STOP=1 -p "$PORT" >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL
if [ "$(as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
  as_postgres createdb -p "$PORT" -O "$ROLE" "$DB" >&2
fi
echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
