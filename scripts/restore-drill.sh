#!/usr/bin/env bash
# Point-in-time recovery drill with pgBackRest, on a PRIVATE PostgreSQL cluster under var/drill
# (its own port and socket; the shared cluster is never touched):
#   1. initdb (as postgres), WAL archiving to a pgBackRest repository under var/drill;
#   2. junkai migrate + junkai synth --households N, then a full base backup;
#   3. visits (each with its audit event) batch A; note the time T; batch B;
#   4. restore to T into another data directory on another port, start it (recovery, promote);
#   5. check: `junkai audit-verify` passes, batch A is there, batch B is not;
#   6. report the RPO (archive lag with archive_timeout) and the restore time.
# The clusters and var/drill are removed at the end, whatever happens (trap).
#
# Usage: scripts/restore-drill.sh [HOUSEHOLDS]   (default 2000; e.g. 50000)
# Environment: DRILL_VISIT_YEARS (synth's visit history, default 10), DRILL_ARCHIVE_TIMEOUT (s).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HOUSEHOLDS="${1:-2000}"
VISIT_YEARS="${DRILL_VISIT_YEARS:-10}"
ARCHIVE_TIMEOUT="${DRILL_ARCHIVE_TIMEOUT:-30}"
BATCH=20
DRILL="$ROOT/var/drill"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PORT=54329
PORT2=54330
RUN="$DRILL/run"
CONF="$DRILL/pgbackrest.conf"
STANZA=drill
PY="$ROOT/.venv/bin/python"
JUNKAI="$ROOT/.venv/bin/junkai"
as_pg() { runuser -u postgres -- "$@"; }
backrest() { as_pg pgbackrest --config="$CONF" --stanza="$STANZA" "$@"; }
now_ms() { date +%s%3N; }
say() { printf '== %s\n' "$*"; }

stop_all() {
  for data in "$DRILL/restored" "$DRILL/primary"; do
    if [ -f "$data/postmaster.pid" ]; then
      as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$DRILL"
}
trap stop_all EXIT

stop_all
mkdir -p "$DRILL"/{run,repo,log,lock,spool}
chown -R postgres:postgres "$DRILL"
chmod 700 "$DRILL"

say "initdb (private cluster, port $PORT, socket $RUN)"
as_pg "$PGBIN/initdb" -D "$DRILL/primary" --auth-local=peer --auth-host=reject -E UTF8 \
  --locale=C.UTF-8 >/dev/null
cat > "$CONF" <<CONF
[global]
repo1-path=$DRILL/repo
repo1-retention-full=2
log-path=$DRILL/log
lock-path=$DRILL/lock
spool-path=$DRILL/spool
compress-type=lz4
start-fast=y
log-level-console=warn

[$STANZA]
pg1-path=$DRILL/primary
pg1-port=$PORT
pg1-socket-path=$RUN
CONF
chown postgres:postgres "$CONF"
cat >> "$DRILL/primary/postgresql.conf" <<PGCONF
listen_addresses = ''
port = $PORT
unix_socket_directories = '$RUN'
wal_level = replica
archive_mode = on
archive_command = 'pgbackrest --config=$CONF --stanza=$STANZA archive-push %p'
archive_timeout = ${ARCHIVE_TIMEOUT}s
max_wal_size = 2GB
PGCONF
as_pg "$PGBIN/pg_ctl" -D "$DRILL/primary" -l "$DRILL/log/primary.log" -w start >/dev/null
chmod 755 "$DRILL" "$RUN"   # root (the app) reaches the socket; peer auth maps it to role root
as_pg psql -h "$RUN" -p "$PORT" -qc "CREATE ROLE root SUPERUSER LOGIN" postgres
as_pg psql -h "$RUN" -p "$PORT" -qc "CREATE DATABASE junkai_drill OWNER root" postgres
backrest stanza-create >/dev/null
backrest check >/dev/null

export PGHOST="$RUN" PGPORT="$PORT" DATABASE_URL="postgres:///junkai_drill"
export JUNKAI_VAR_DIR="$DRILL/app" JUNKAI_LOG_LEVEL=ERROR
mkdir -p "$JUNKAI_VAR_DIR"
# The drill's own keys: the restored copy must verify under the same audit key.
export SECRET_KEY="drill-$(head -c 24 /dev/urandom | base64)"

say "migrate and synth --households $HOUSEHOLDS (visit history: $VISIT_YEARS years)"
t0=$(now_ms)
"$JUNKAI" migrate --no-input -v 0
"$JUNKAI" synth --households "$HOUSEHOLDS" --visit-years "$VISIT_YEARS" -v 0
load_s=$(( ($(now_ms) - t0) / 1000 ))
db_size=$(psql -Atc "SELECT pg_size_pretty(pg_database_size('junkai_drill'))" junkai_drill)
households=$(psql -Atc "SELECT count(*) FROM households_household" junkai_drill)
visits=$(psql -Atc "SELECT count(*) FROM visits_visit" junkai_drill)
events=$(psql -Atc "SELECT count(*) FROM audit_auditevent" junkai_drill)

say "full base backup"
t0=$(now_ms)
backrest backup --type=full >/dev/null
backup_ms=$(( $(now_ms) - t0 ))
backup_size=$(du -sh "$DRILL/repo/backup" | cut -f1)

say "batch A: $BATCH visits (with their audit events)"
"$PY" scripts/restore_drill_writes.py write A "$BATCH" 2>/dev/null
sleep 1.1
TARGET=$(psql -Atc "SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.USOF')" junkai_drill)
head_at_target=$("$JUNKAI" audit-verify | tail -1 | sed 's/^先頭: //')
sleep 1.1
say "target time $TARGET; batch B: $BATCH visits"
"$PY" scripts/restore_drill_writes.py write B "$BATCH" 2>/dev/null

archived() {  # whether WAL segment $1 has reached the repository
  [ "$(psql -Atc "SELECT coalesce(last_archived_wal, '') >= '$1' FROM pg_stat_archiver" junkai_drill)" = t ]
}
say "RPO: time from a commit until its WAL is archived (archive_timeout ${ARCHIVE_TIMEOUT}s)"
# The worst case: a commit just after a segment switch waits the whole archive_timeout.
prev=$(psql -Atc "SELECT pg_walfile_name(pg_switch_wal())" junkai_drill)
until archived "$prev"; do sleep 0.2; done
# One small committed write (psql: no start-up time between the clock and the commit).
seg=$(psql -qAt -c "CREATE TABLE drill_rpo AS SELECT now() AS at" \
  -c "SELECT pg_walfile_name(pg_current_wal_insert_lsn())" junkai_drill)
t0=$(now_ms)
until archived "$seg"; do
  sleep 0.2
  if [ $(( $(now_ms) - t0 )) -gt $(( (ARCHIVE_TIMEOUT + 60) * 1000 )) ]; then
    echo "WAL $seg not archived in time" >&2; exit 1
  fi
done
rpo_ms=$(( $(now_ms) - t0 ))

say "restore to $TARGET into another data directory (port $PORT2)"
t0=$(now_ms)
as_pg mkdir -m 700 "$DRILL/restored"
backrest restore --pg1-path="$DRILL/restored" --type=time --target="$TARGET" \
  --target-action=promote >/dev/null
cat >> "$DRILL/restored/postgresql.auto.conf" <<PGCONF
port = $PORT2
archive_mode = off
PGCONF
as_pg "$PGBIN/pg_ctl" -D "$DRILL/restored" -l "$DRILL/log/restored.log" -w -t 600 start >/dev/null
until [ "$(psql -p "$PORT2" -Atc "SELECT NOT pg_is_in_recovery()" junkai_drill 2>/dev/null)" = t ]; do
  sleep 0.2
done
restore_ms=$(( $(now_ms) - t0 ))

say "check the restored copy"
export PGPORT="$PORT2"
verify_out=$("$JUNKAI" audit-verify --anchor "$head_at_target")
echo "$verify_out"
a=$("$PY" scripts/restore_drill_writes.py count A)
b=$("$PY" scripts/restore_drill_writes.py count B)
restored_head=$(echo "$verify_out" | tail -1 | sed 's/^先頭: //')
echo "batch A restored: $a / $BATCH; batch B restored: $b (must be 0)"
[ "$a" = "$BATCH" ] && [ "$b" = 0 ] && [ "$restored_head" = "$head_at_target" ] || {
  echo "DRILL FAILED: expected $BATCH/0 and head $head_at_target, got $a/$b and $restored_head" >&2
  exit 1
}

printf '\n== restore drill: %s households, %s visits, %s audit events, database %s\n' \
  "$households" "$visits" "$events" "$db_size"
printf 'load (migrate + synth)         %s s\n' "$load_s"
printf 'full base backup (lz4)         %s.%03d s, repository %s\n' $((backup_ms / 1000)) $((backup_ms % 1000)) "$backup_size"
printf 'RPO (commit to archive, worst) %s.%03d s with archive_timeout=%ss\n' $((rpo_ms / 1000)) $((rpo_ms % 1000)) "$ARCHIVE_TIMEOUT"
printf 'restore to time + recovery     %s.%03d s (pgbackrest restore, replay, promote)\n' $((restore_ms / 1000)) $((restore_ms % 1000))
printf 'audit chain after restore      %s (head %s = head at target)\n' "$(echo "$verify_out" | head -1)" "$restored_head"
printf 'rows after the target          absent (batch B: %s of %s)\n' "$b" "$BATCH"
