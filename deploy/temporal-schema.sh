#!/bin/sh
# Temporal's databases on the deployment's PostgreSQL: created when missing, their schemas
# brought up to the version this admin-tools image carries (the server's). Safe to run on every
# deploy: `update-schema` applies only the versions a database lacks.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}" "${DB_PORT:=5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

tool() {
	database=$1
	shift
	temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" \
		-p "$DB_PORT" --db "$database" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
	name=${pair%%:*}
	schema=${pair#*:}
	# `create` refuses a database that exists: the one failure that is expected here
	if tool "$name" create 2>/tmp/create.err; then
		echo "created database $name"
		tool "$name" setup-schema -v 0.0
	elif grep -q "already exists" /tmp/create.err; then
		echo "database $name exists"
	else
		cat /tmp/create.err >&2
		exit 1
	fi
	tool "$name" update-schema -d "$SCHEMA/$schema/versioned"
	echo "database $name: schema up to date"
done
