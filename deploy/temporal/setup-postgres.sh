#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the version this
# admin-tools image ships. Safe to run on every start: setup-schema skips a database that is
# already past 0.0, update-schema applies only missing versions.
set -eu
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (temporal-sql-tool reads the password from it)}"
PORT="${DB_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

for db in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  name="${db%%:*}"
  schema="${db#*:}"
  # The postgres image already created the database named after the user; "already exists" is fine.
  if ! out=$(sql --db "$name" create 2>&1); then
    case "$out" in
      *"already exists"*) echo "database $name exists" ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
  sql --db "$name" setup-schema -v 0.0
  sql --db "$name" update-schema -d "$SCHEMA_ROOT/$schema/versioned"
done
echo "temporal schemas ready"
