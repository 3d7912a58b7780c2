#!/bin/sh
# Bring a backup of deploy/backup.sh back: `restore.sh BACKUP_DIR/<UTC time>`. Each
# <database>.dump in that folder replaces the database of that name (created if missing).
# Stop everything that writes first (docs/operations.md, "Restore"): the API, the workers and
# Temporal, so that the product's data and Temporal's come back from the same moment.
# Connection: the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD).
set -eu
backup=${1:?usage: restore.sh BACKUP_DIR/<time of the backup>}
[ -d "$backup" ] || { echo "no backup folder $backup" >&2; exit 2; }
found=0
for dump in "$backup"/*.dump; do
	[ -e "$dump" ] || continue
	found=1
	database=$(basename "$dump" .dump)
	if [ "$(psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
		createdb "$database"
	fi
	pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
		--dbname="$database" "$dump"
	echo "restored $database from $backup"
done
[ "$found" = 1 ] || { echo "no .dump file in $backup" >&2; exit 2; }
