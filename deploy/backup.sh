#!/bin/sh
# Backups of the deployment's PostgreSQL: every BACKUP_INTERVAL_HOURS, one folder
# BACKUP_DIR/<UTC time>/ with a pg_dump (custom format) of each of BACKUP_DATABASES; folders
# older than BACKUP_KEEP_DAYS days are removed. A backup is complete or absent: it is written
# under a .partial name and renamed at the end. `backup.sh --once` makes one and exits.
# Connection: the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD). deploy/restore.sh
# brings a backup back; docs/operations.md says when and how.
set -eu
: "${BACKUP_DIR:?}" "${BACKUP_DATABASES:?}"
BACKUP_INTERVAL_HOURS=${BACKUP_INTERVAL_HOURS:-24}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}

backup_once() {
	stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
	partial="$BACKUP_DIR/$stamp.partial"
	mkdir -p "$partial"
	for database in $BACKUP_DATABASES; do
		pg_dump --format=custom --no-owner --file="$partial/$database.dump" "$database"
	done
	mv "$partial" "$BACKUP_DIR/$stamp"
	touch "$BACKUP_DIR/last-success"
	echo "backup $stamp: $BACKUP_DATABASES"
	# what an earlier run left half-written, and what is past its keeping
	find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '*.partial' ! -name "$stamp.partial" \
		-exec rm -rf {} +
	find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -mtime +"$BACKUP_KEEP_DAYS" \
		-print -exec rm -rf {} +
}

if [ "${1:-}" = "--once" ]; then
	backup_once
	exit 0
fi
while true; do
	backup_once || echo "backup failed; next attempt in $BACKUP_INTERVAL_HOURS h" >&2
	sleep $((BACKUP_INTERVAL_HOURS * 3600))
done
