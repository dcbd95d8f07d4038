#!/usr/bin/env bash
# Benchmark harness: Stowage against the plain tools it wraps (pg_dump, zstd, pg_restore, pgBackRest).
#
#   bench/run.sh [--scale N] [--runs R]
#
# Prepares (or reuses) a pgbench database at scale N plus ~10% incompressible random bytea, measures each command
# R times in alternation (A B A B ...), and prints a Markdown table of medians and ratios to their baselines; the same
# report is saved to bench/results/<date>-scale<N>.md. See bench/README.md. Not part of the Maven build or CI.
# Pair 4 (physical, against pgBackRest) runs on a throwaway cluster of its own (initdb under the temp dir, a free
# port from 55432, stopped on exit); as root, its server and pgBackRest run as the postgres OS user.
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGPASSWORD; BENCH_DATABASE (stowage_bench);
# STOWAGE_JAR (default target/stowage.jar, copied to a temp dir before use); STOWAGE_JAVA_OPTS is passed through.
set -euo pipefail
export LC_ALL=C

usage() {
  echo "usage: bench/run.sh [--scale N] [--runs R]   (defaults: --scale 100 --runs 3)"
}

scale=100
runs=3
while (($#)); do
  case $1 in
    --scale) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; scale=$2; shift 2 ;;
    --scale=*) scale=${1#*=}; shift ;;
    --runs) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; runs=$2; shift 2 ;;
    --runs=*) runs=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $scale =~ ^[1-9][0-9]*$ ]] || { echo "error: --scale must be a positive integer" >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "error: --runs must be a positive integer" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench_dir")

export PGHOST=${PGHOST:-127.0.0.1}
export PGPORT=${PGPORT:-5432}
export PGUSER=${PGUSER:-postgres}
# Only the environment configures Stowage here: no S3 copy, whatever the caller's shell holds.
unset STOWAGE_S3_BUCKET STOWAGE_S3_PREFIX AWS_ENDPOINT_URL_S3 PGSERVICE || true
db=${BENCH_DATABASE:-stowage_bench}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "error: BENCH_DATABASE must be a plain lower-case identifier" >&2; exit 2; }
restore_db=${db}_restore
comment_prefix="stowage-bench v1 scale=$scale "

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------- tools
need=()
command -v zstd >/dev/null || need+=(zstd)
[[ -x /usr/bin/time ]] || need+=(time)
command -v pgbackrest >/dev/null || need+=(pgbackrest)
for tool in psql pg_dump pg_restore createdb dropdb; do
  command -v "$tool" >/dev/null || { need+=(postgresql-client); break; }
done
if ((${#need[@]})); then
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null \
    || die "missing packages: ${need[*]}; install them (apt-get install ${need[*]}) or run as root"
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${need[@]}" >&2; }
fi
command -v pgbench >/dev/null \
  || die "pgbench not found; on Debian it ships with the server package (postgresql-NN)"
command -v java >/dev/null || die "java not found (Stowage needs Java 17+)"
command -v basenc >/dev/null || die "basenc (coreutils >= 8.31) not found"
# Pair 4 runs its own throwaway cluster, from the newest server installed; as root, as the postgres OS user.
pg_bin=/usr/lib/postgresql/$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)/bin
[[ -x $pg_bin/initdb && -x $pg_bin/pg_ctl && -x $pg_bin/pg_basebackup ]] \
  || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (pair 4 needs initdb, pg_ctl, pg_basebackup)"
as_pg=()
if [[ $(id -u) == 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root, but there is no postgres OS user to run the pair 4 cluster"
  as_pg=(runuser -u postgres --)
fi

psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
psql_q -d postgres -c 'select 1' >/dev/null || die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as $PGUSER"

# ------------------------------------------------------------------------------------------------- temp and cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/stowage-bench.XXXXXX")
restore_db_ours=0
phys_data=
phys_service_pid=
cleanup() {
  local rc=$?
  if [[ -n $phys_service_pid ]]; then
    kill -TERM "$phys_service_pid" 2>/dev/null || true
    wait "$phys_service_pid" 2>/dev/null || true
  fi
  if [[ -n $phys_data && -f $phys_data/postmaster.pid ]]; then
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$phys_data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if ((restore_db_ours)); then
    dropdb --if-exists --force "$restore_db" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$tmp/logs" "$tmp/m"

# ------------------------------------------------------------------------------------- Stowage: private jar and work dirs
jar_src=${STOWAGE_JAR:-$root/target/stowage.jar}
if [[ ! -f $jar_src ]]; then
  [[ -z ${STOWAGE_JAR:-} ]] || die "STOWAGE_JAR=$STOWAGE_JAR not found"
  log "target/stowage.jar missing: building it (mvn -q -B -o package -DskipTests)"
  (cd "$root" && mvn -q -B -o package -DskipTests) >&2
fi
mkdir -p "$tmp/jar" "$tmp/bin"
cp "$jar_src" "$tmp/jar/stowage.jar"
cp "$root/bin/stowage" "$tmp/bin/stowage"
cp "$root/bin/stowage-archive-wal" "$tmp/bin/stowage-archive-wal"
chmod 755 "$tmp/bin" "$tmp/bin/stowage" "$tmp/bin/stowage-archive-wal"
export STOWAGE_JAR=$tmp/jar/stowage.jar
stowage=$tmp/bin/stowage

# work-l1: the configuration as shipped; work-l3: the same with the job's zstd level set to 3.
for w in work-l1 work-l3; do
  mkdir -p "$tmp/$w"
  cp "$root/application.properties" "$tmp/$w/"
  cp -r "$root/routes" "$tmp/$w/routes"
done
cat >"$tmp/work-l3/routes/jobs.camel.yaml" <<'YAML'
# Written by bench/run.sh: the shipped job, with the template's level parameter set to 3.
- templatedRoute:
    routeTemplateRef: postgresql-logical
    routeId: backup-postgres
    parameters:
      - name: job
        value: postgres
      - name: level
        value: "3"
YAML
shipped=$(awk '/- name: (codec|level|workers)[[:space:]]*$/ { n = $3; next }
               n != "" && /defaultValue:/ { v = $2; gsub(/"/, "", v); out = out (out ? ", " : "") n " " v; n = "" }
               END { print out }' "$root/routes/postgresql-logical.camel.yaml" 2>/dev/null || true)
shipped=${shipped:-as shipped}
shipped_phys=$(awk '/- name: (codec|level|workers)[[:space:]]*$/ { n = $3; next }
               n != "" && /defaultValue:/ { v = $2; gsub(/"/, "", v); out = out (out ? ", " : "") n " " v; n = "" }
               END { print out }' "$root/routes/postgresql-physical.camel.yaml" 2>/dev/null || true)
shipped_phys=${shipped_phys:-as shipped}

# ----------------------------------------------------------------------------------------------------- the database
# fill_database DB LOGNAME: creates DB (on the server PGHOST/PGPORT point at) with pgbench scale $scale plus ~10%
# random bytea; sets random_mib. Used for the benchmark database and for pair 4's throwaway cluster.
fill_database() {
  local d=$1 logf="$tmp/logs/$2.log" pgbench_bytes
  createdb "$d"
  pgbench -i -q -s "$scale" "$d" >"$logf" 2>&1 || { tail -n 20 "$logf" >&2; die "pgbench -i failed"; }
  pgbench_bytes=$(psql_q -d "$d" -c 'select pg_database_size(current_database())')
  random_mib=$(( (pgbench_bytes / 10 + 524288) / 1048576 ))
  ((random_mib >= 1)) || random_mib=1
  log "adding $random_mib MiB of random bytea (table bench_random, 1 MiB a row)"
  psql_q -d "$d" -c 'create table bench_random (id bigint generated always as identity primary key, data bytea not null);
                     alter table bench_random alter column data set storage external'
  head -c $((random_mib * 1048576)) /dev/urandom | basenc --base16 -w $((2 * 1048576)) | sed 's/^/\\x/' \
    | psql_q -d "$d" -c 'copy bench_random (data) from stdin with (format csv)'
  psql_q -d "$d" -c 'vacuum analyze bench_random' -c 'checkpoint'
}
existing=$(psql_q -d postgres -c "select coalesce(shobj_description(oid, 'pg_database'), '') || '|'
                                  from pg_database where datname = '$db'")
if [[ -n $existing && $existing == "$comment_prefix"* ]]; then
  log "reusing database $db (${existing%|})"
else
  if [[ -n $existing ]]; then
    [[ $existing == stowage-bench* ]] \
      || die "database $db exists but is not a benchmark database (no stowage-bench comment); drop it or set BENCH_DATABASE"
    log "database $db has another scale (${existing%|}): recreating it"
    dropdb --force "$db"
  fi
  log "creating database $db: pgbench scale $scale"
  fill_database "$db" pgbench
  psql_q -d "$db" -c "comment on database $db is '${comment_prefix}random_mib=$random_mib'"
fi
if [[ -n $(psql_q -d postgres -c "select 1 from pg_database where datname = '$restore_db'") ]]; then
  die "database $restore_db exists (a previous run interrupted?); drop it: dropdb --force $restore_db"
fi
db_size=$(psql_q -d "$db" -c 'select pg_size_pretty(pg_database_size(current_database()))')
random_size=$(psql_q -d "$db" -c "select pg_size_pretty(pg_total_relation_size('bench_random'))")

# ------------------------------------------------------------------------------------------------------ measuring
# measure NAME COMMAND...: runs COMMAND under /usr/bin/time (its output to a log); sets m_wall, m_cpu, m_rss.
# Wall time is taken by this shell around the command (microseconds; /usr/bin/time only has centiseconds).
seq=0
measure() {
  local name=$1 t0 t1 u s rss
  shift
  seq=$((seq + 1))
  local out="$tmp/logs/$seq-$name.log"
  t0=$EPOCHREALTIME
  if ! /usr/bin/time -f '%U %S %M' -o "$tmp/time.out" "$@" >"$out" 2>&1; then
    log "$name failed: $*"
    tail -n 30 "$out" >&2
    exit 1
  fi
  t1=$EPOCHREALTIME
  read -r u s rss < <(tail -n 1 "$tmp/time.out")
  m_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
  m_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
  m_rss=$rss
  m_log=$out
}
# record NAME [SIZE_BYTES]: appends the last measurement (and an output size, or -) to NAME's series.
record() {
  echo "$m_wall $m_cpu $m_rss ${2:--}" >>"$tmp/m/$1"
  log "  $1: wall $(printf '%.2f' "$m_wall") s, cpu $m_cpu s, rss $((m_rss / 1024)) MiB${2:+, output $(($2 / 1048576)) MiB}"
}
file_bytes() { stat -c %s "$1"; }
tree_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
db_bytes() { psql_q -d postgres -c "select pg_database_size('$1')"; }
fresh_dir() { rm -rf "$1"; mkdir -p "$1"; }
# Stowage runs in a work dir (its application.properties and routes/) against a repository; env execs bin/stowage,
# which execs java, so /usr/bin/time measures the JVM itself.
in_work() { local dir=$1 repo=$2; shift 2; env -C "$dir" STOWAGE_REPOSITORY="$repo" PGDATABASE="$db" "$stowage" "$@"; }
sw() { sw=(env -C "$1" STOWAGE_REPOSITORY="$2" PGDATABASE="$db" "$stowage"); }
# Pipelines run as one bash (with pipefail, so a failing pg_dump fails the run) measured as a whole.

# pgBackRest: a minimal configuration and an empty repository.
mkdir -p "$tmp/pgbackrest/repo" "$tmp/pgbackrest/lock" "$tmp/pgbackrest/log"
cat >"$tmp/pgbackrest/pgbackrest.conf" <<EOF
[global]
repo1-path=$tmp/pgbackrest/repo
lock-path=$tmp/pgbackrest/lock
log-path=$tmp/pgbackrest/log
log-level-console=warn
log-level-file=off
EOF

dump_z3=$tmp/dump-z3.zst
dump_z1=$tmp/dump-z1.zst
repo_l1=$tmp/repo-l1
repo_l3=$tmp/repo-l3
repo_empty=$tmp/repo-empty
mkdir -p "$repo_empty"

started_load=$(cut -d ' ' -f 1-3 /proc/loadavg)
log "warming up (not measured): pg_dump to /dev/null, stowage list, pgbackrest info"
pg_dump -Fc -Z0 --no-sync -f /dev/null "$db"
in_work "$tmp/work-l1" "$repo_empty" list >"$tmp/logs/warmup-list.log" 2>&1 \
  || { cat "$tmp/logs/warmup-list.log" >&2; die "stowage list failed"; }
pgbackrest --config="$tmp/pgbackrest/pgbackrest.conf" info >"$tmp/logs/warmup-pgbackrest.log" 2>&1 \
  || { cat "$tmp/logs/warmup-pgbackrest.log" >&2; die "pgbackrest info failed"; }

log "1. the limit: pg_dump -Fc -Z0 --no-sync -f /dev/null ($runs runs)"
for ((r = 1; r <= runs; r++)); do
  measure limit pg_dump -Fc -Z0 --no-sync -f /dev/null "$db"; record limit
done

log "2. logical backup ($runs rounds of 4, alternating)"
for ((r = 1; r <= runs; r++)); do
  rm -f "$dump_z3" "$dump_z1"
  measure dump_z3 bash -c 'set -o pipefail; pg_dump -Fc -Z0 "$1" | zstd -q -3 -T2 > "$2"' bash "$db" "$dump_z3"
  record dump_z3 "$(file_bytes "$dump_z3")"
  fresh_dir "$repo_l1"
  sw "$tmp/work-l1" "$repo_l1"; measure stowage_l1 "${sw[@]}" backup postgres
  record stowage_l1 "$(tree_bytes "$repo_l1")"
  stowage_log=$m_log
  measure dump_z1 bash -c 'set -o pipefail; pg_dump -Fc -Z0 "$1" | zstd -q -1 -T2 > "$2"' bash "$db" "$dump_z1"
  record dump_z1 "$(file_bytes "$dump_z1")"
  fresh_dir "$repo_l3"
  sw "$tmp/work-l3" "$repo_l3"; measure stowage_l3 "${sw[@]}" backup postgres
  record stowage_l3 "$(tree_bytes "$repo_l3")"
done
backup_id=$(tail -n 1 "$stowage_log")
dump_bytes=$(in_work "$tmp/work-l1" "$repo_l1" list --json | grep -o '"sizeBytes" *: *[0-9]*' | grep -o '[0-9]*$' | head -n 1 || true)

log "3. logical restore ($runs rounds of 2, alternating; restoring the last backups of step 2)"
for ((r = 1; r <= runs; r++)); do
  restore_db_ours=1
  createdb "$restore_db"
  measure restore_pg bash -c 'set -o pipefail; zstd -dc "$1" | pg_restore -d "$2"' bash "$dump_z3" "$restore_db"
  record restore_pg "$(db_bytes "$restore_db")"
  dropdb --force "$restore_db"
  sw "$tmp/work-l1" "$repo_l1"; measure restore_stowage "${sw[@]}" restore postgres --target-database "$restore_db"
  record restore_stowage "$(db_bytes "$restore_db")"
  dropdb --force "$restore_db"
  restore_db_ours=0
done

# ------------------------------------------------------------------------------------------------- 4. physical
# A throwaway cluster (initdb --auth=trust, on a free port, data under $tmp/phys) with the same data; its
# archive_command feeds both tools: pgbackrest archive-push, then bin/stowage-archive-wal into Stowage's spool.
free_port() {
  local p
  for ((p = $1; p < $1 + 200; p++)); do
    [[ -e /tmp/.s.PGSQL.$p ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    echo "$p"; return 0
  done
  die "no free TCP port in $1..$(($1 + 199))"
}
phys=$tmp/phys
phys_port=$(free_port 55432)
mgmt_port=$(free_port 59876)
phys_conf=$phys/pgbackrest.conf
repo_phys=$tmp/repo-phys
mkdir -p "$phys/spool" "$phys/sock" "$phys/pgbackrest/repo" "$phys/pgbackrest/lock" "$phys/pgbackrest/log" "$repo_phys"
if ((${#as_pg[@]})); then
  chmod 711 "$tmp"    # the postgres user must reach $tmp/phys and $tmp/bin/stowage-archive-wal
  chown -R postgres:postgres "$phys"
fi
cat >"$phys_conf" <<EOF
[global]
repo1-path=$phys/pgbackrest/repo
repo1-retention-full=9999
lock-path=$phys/pgbackrest/lock
log-path=$phys/pgbackrest/log
log-level-console=warn
log-level-file=off
compress-type=zst
compress-level=3
process-max=2
start-fast=y
archive-check=y

[bench]
pg1-path=$phys/data
pg1-port=$phys_port
pg1-socket-path=$phys/sock
pg1-user=postgres
EOF
chmod 644 "$phys_conf"

log "4. physical: throwaway cluster from $pg_bin on port $phys_port, pgbench scale $scale"
"${as_pg[@]}" "$pg_bin/initdb" -D "$phys/data" -U postgres --auth=trust -E UTF8 >"$tmp/logs/phys-initdb.log" 2>&1 \
  || { tail -n 20 "$tmp/logs/phys-initdb.log" >&2; die "initdb failed"; }
phys_data=$phys/data
cat >>"$phys/data/postgresql.conf" <<EOF

# bench/run.sh pair 4
port = $phys_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$phys/sock'
wal_level = replica
archive_mode = on
# both tools archive every WAL file (pgbackrest check wants "pgbackrest" in archive_command, so no wrapper script)
archive_command = 'pgbackrest --config=$phys_conf --stanza=bench archive-push %p && $tmp/bin/stowage-archive-wal $phys/spool %p %f'
EOF
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$phys/data" -l "$phys/server.log" -w start >"$tmp/logs/phys-start.log" 2>&1 \
  || { tail -n 20 "$phys/server.log" "$tmp/logs/phys-start.log" >&2; die "the pair 4 cluster did not start"; }
"${as_pg[@]}" pgbackrest --config="$phys_conf" --stanza=bench stanza-create >"$tmp/logs/phys-stanza.log" 2>&1 \
  && "${as_pg[@]}" pgbackrest --config="$phys_conf" --stanza=bench check >>"$tmp/logs/phys-stanza.log" 2>&1 \
  || { cat "$tmp/logs/phys-stanza.log" >&2; tail -n 20 "$phys/server.log" >&2; die "pgbackrest stanza-create/check failed"; }
(
  export PGHOST=127.0.0.1 PGPORT=$phys_port PGUSER=postgres
  unset PGPASSWORD
  fill_database "$db" phys-pgbench
)
phys_psql() { env -u PGPASSWORD PGHOST=127.0.0.1 PGPORT="$phys_port" PGUSER=postgres psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
phys_size=$(phys_psql -d postgres -c 'select pg_size_pretty(sum(pg_database_size(oid))) from pg_database')
phys_server=$(phys_psql -d postgres -c 'show server_version')

# Stowage: a work dir whose jobs.camel.yaml holds only the physical job and its WAL route (no password: trust).
mkdir -p "$tmp/work-phys"
cp "$root/application.properties" "$tmp/work-phys/"
sed -i "s/^camel\.management\.port *=.*/camel.management.port = $mgmt_port/" "$tmp/work-phys/application.properties"
cp -r "$root/routes" "$tmp/work-phys/routes"
cat >"$tmp/work-phys/routes/jobs.camel.yaml" <<YAML
# Written by bench/run.sh: pair 4, a physical job on the throwaway cluster and its WAL archive.
- templatedRoute:
    routeTemplateRef: postgresql-physical
    routeId: backup-postgres
    parameters:
      - name: job
        value: postgres
      - name: host
        value: 127.0.0.1
      - name: port
        value: "$phys_port"
      - name: user
        value: postgres
      - name: database
        value: postgres
      - name: pgBin
        value: $pg_bin
- templatedRoute:
    routeTemplateRef: postgresql-wal
    routeId: wal-postgres
    parameters:
      - name: job
        value: postgres
      - name: spool
        value: $phys/spool
      - name: pollDelay
        value: "200"
YAML
swp=(env -u PGPASSWORD -C "$tmp/work-phys" STOWAGE_REPOSITORY="$repo_phys" "$stowage")
"${swp[@]}" list >"$tmp/logs/phys-warmup-list.log" 2>&1 \
  || { cat "$tmp/logs/phys-warmup-list.log" >&2; die "stowage list (physical work dir) failed"; }

log "4. physical backup ($runs rounds of 2, alternating)"
pgbr_backups=$phys/pgbackrest/repo/backup/bench
for ((r = 1; r <= runs; r++)); do
  measure pgbr_backup "${as_pg[@]}" pgbackrest --config="$phys_conf" --stanza=bench --type=full backup
  pgbr_label=$(find "$pgbr_backups" -mindepth 1 -maxdepth 1 -type d -name '*F' -printf '%f\n' | sort | tail -n 1)
  [[ -n $pgbr_label ]] || die "no full backup in $pgbr_backups"
  record pgbr_backup "$(tree_bytes "$pgbr_backups/$pgbr_label")"
  measure stowage_phys "${swp[@]}" backup postgres
  phys_id=$(tail -n 1 "$m_log")
  phys_dir=$(find "$repo_phys" -type d -name "$phys_id" | head -n 1)
  [[ -n $phys_id && -n $phys_dir ]] || die "cannot find Stowage's backup '$phys_id' in $repo_phys"
  record stowage_phys "$(tree_bytes "$phys_dir")"
done

# The restores need the backups' WAL in Stowage's repository: run the service (which ships the spool) until the
# spool is empty, then stop it. Not measured.
log "4. shipping the WAL spool to Stowage's repository (stowage run, not measured)"
"${swp[@]}" run >"$tmp/logs/phys-service.log" 2>&1 &
phys_service_pid=$!
for ((i = 0; ; i++)); do
  kill -0 "$phys_service_pid" 2>/dev/null || { tail -n 30 "$tmp/logs/phys-service.log" >&2; die "stowage run exited"; }
  left=$(find "$phys/spool" -maxdepth 1 -type f ! -name '.*' | wc -l)
  ((left == 0 && i >= 4)) && break
  ((i < 1200)) || { tail -n 30 "$tmp/logs/phys-service.log" >&2; die "the WAL spool did not drain in 10 minutes ($left files left)"; }
  sleep 0.5
done
kill -TERM "$phys_service_pid"
wait "$phys_service_pid" || true
phys_service_pid=

log "4. physical restore ($runs rounds of 2, alternating; pgBackRest's latest backup, Stowage's $phys_id)"
phys_restore=$phys/restore
for ((r = 1; r <= runs; r++)); do
  fresh_dir "$phys_restore"
  chmod 700 "$phys_restore"
  ((${#as_pg[@]} == 0)) || chown postgres:postgres "$phys_restore"
  measure pgbr_restore "${as_pg[@]}" pgbackrest --config="$phys_conf" --stanza=bench --pg1-path="$phys_restore" \
    --type=immediate --target-action=promote restore
  record pgbr_restore "$(tree_bytes "$phys_restore")"
  rm -rf "$phys_restore"
  measure stowage_phys_restore "${swp[@]}" restore postgres --backup "$phys_id" --target-datadir "$phys_restore"
  record stowage_phys_restore "$(tree_bytes "$phys_restore")"
  rm -rf "$phys_restore"
done
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$phys_data" -m fast -w stop >"$tmp/logs/phys-stop.log" 2>&1 || true

log "5. start-up ($runs rounds of 2, alternating)"
for ((r = 1; r <= runs; r++)); do
  measure pgbackrest_info pgbackrest --config="$tmp/pgbackrest/pgbackrest.conf" info; record pgbackrest_info
  sw "$tmp/work-l1" "$repo_empty"; measure stowage_list "${sw[@]}" list; record stowage_list
done

# -------------------------------------------------------------------------------------------------------- report
# medians NAME: prints "wall cpu rss_kb size" medians of NAME's series (size "-" when it has none).
medians() {
  awk '
    function median(col,   n, i, j, t, v) {
      n = 0
      for (i = 1; i <= NR; i++) if (val[i, col] != "-") v[++n] = val[i, col] + 0
      if (n == 0) return "-"
      for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { for (c = 1; c <= 4; c++) val[NR, c] = $c }
    END { print median(1), median(2), median(3), median(4) }' "$tmp/m/$1"
}
# row LABEL NAME [BASE] [LIMIT]: one table row; ratios to BASE's medians, and wall time to LIMIT's.
row() {
  local label=$1 name=$2 base=${3:-} limit=${4:-}
  local self b l
  self=$(medians "$name")
  b=$( [[ -n $base ]] && medians "$base" || echo "- - - -")
  l=$( [[ -n $limit ]] && medians "$limit" || echo "- - - -")
  # The label goes through the environment: awk -v would turn its "\|" into a bare "|" and break the table.
  label=$label self=$self base=$b limit=$l awk '
    function secs(x) { return x == "-" ? "—" : sprintf(x < 1 ? "%.3f" : "%.2f", x) }
    function mib(x, kb) { return x == "-" ? "—" : sprintf("%.1f", kb ? x / 1024 : x / 1048576) }
    function ratio(a, b) { return (a == "-" || b == "-") ? "—" : (b + 0 == 0 ? "n/a" : sprintf("%.2f", a / b)) }
    BEGIN {
      label = ENVIRON["label"]; self = ENVIRON["self"]; base = ENVIRON["base"]; limit = ENVIRON["limit"]
      split(self, s, " "); split(base, b, " "); split(limit, l, " ")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label,
        secs(s[1]), ratio(s[1], b[1]), secs(s[2]), ratio(s[2], b[2]),
        mib(s[3], 1), ratio(s[3], b[3]), mib(s[4], 0), ratio(s[4], b[4]), ratio(s[1], l[1])
    }'
}

pg_server=$(psql_q -d postgres -c 'show server_version')
cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
java_version=$(java -version 2>&1 | head -n 1)
jar_sum=$(sha256sum "$STOWAGE_JAR" | cut -c 1-12)
jar_date=$(date -r "$jar_src" '+%Y-%m-%d %H:%M')
report=$tmp/report.md
{
  echo "# Stowage benchmark — scale $scale, $runs runs"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) CPUs (${cpu_model:-unknown model}), $mem memory, load average $started_load at the start"
  echo "- PostgreSQL: server $pg_server at $PGHOST:$PGPORT; $(pg_dump --version); zstd $(zstd -q --version)"
  echo "- $(pgbackrest version); Java: $java_version"
  echo "- Stowage: jar sha256 $jar_sum… built $jar_date; backup job: template defaults ($shipped)${STOWAGE_JAVA_OPTS:+; STOWAGE_JAVA_OPTS=$STOWAGE_JAVA_OPTS}"
  echo "- Database \`$db\`: $db_size (pgbench scale $scale + \`bench_random\` $random_size of random bytea);" \
       "uncompressed \`pg_dump -Fc -Z0\` archive: $([[ -n $dump_bytes ]] && echo "$((dump_bytes / 1048576)) MiB" || echo unknown) (from Stowage's manifest)"
  echo "- Pair 4 (physical): a throwaway cluster, PostgreSQL $phys_server from $pg_bin on port $phys_port" \
       "(initdb --auth=trust), \`$db\` loaded the same way (all databases: $phys_size); archive_command:" \
       "\`pgbackrest archive-push %p && bin/stowage-archive-wal SPOOL %p %f\`"
  echo
  echo "Medians of $runs runs, each pair measured in alternation (A B A B …) after one unmeasured warm-up."
  echo "\"× base\" is the ratio to the row marked *baseline* in the same group; \"wall × limit\" is the ratio to"
  echo "row 1 (\`pg_dump\` alone, the goal for a backup). Lower is better everywhere."
  echo
  echo "| Command | Wall s | × base | CPU s | × base | Peak RSS MiB | × base | Output MiB | × base | Wall × limit |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  row "1 limit: \`pg_dump -Fc -Z0 --no-sync -f /dev/null\`" limit "" limit
  row "2 *baseline*: \`pg_dump -Fc -Z0 \| zstd -3 -T2 > FILE\`" dump_z3 dump_z3 limit
  row "2 **\`stowage backup postgres\`** ($shipped)" stowage_l1 dump_z3 limit
  row "2 extra: \`pg_dump -Fc -Z0 \| zstd -1 -T2 > FILE\`" dump_z1 dump_z3 limit
  row "2 extra: \`stowage backup postgres\`, level 3" stowage_l3 dump_z3 limit
  row "3 *baseline*: \`zstd -dc FILE \| pg_restore -d NEW\`" restore_pg restore_pg
  row "3 **\`stowage restore postgres --target-database NEW\`**" restore_stowage restore_pg
  row "4 *baseline*: \`pgbackrest backup --type=full\` (zst 3, process-max 2)" pgbr_backup pgbr_backup
  row "4 **\`stowage backup\`** physical ($shipped_phys)" stowage_phys pgbr_backup
  row "4 *baseline*: \`pgbackrest restore\` (\`--type=immediate\`, new directory)" pgbr_restore pgbr_restore
  row "4 **\`stowage restore --target-datadir\`** (\`--backup ID\`, new directory)" stowage_phys_restore pgbr_restore
  row "5 *baseline*: \`pgbackrest info\` (empty repository)" pgbackrest_info pgbackrest_info
  row "5 **\`stowage list\`** (empty repository)" stowage_list pgbackrest_info
  echo
  echo "Notes:"
  echo
  echo "- Wall: elapsed time of the whole command (process start to exit, pipelines as a whole)."
  echo "- CPU: user + sys of the command and all the processes it waited for (\`/usr/bin/time\`), so pg_dump's CPU"
  echo "  counts in Stowage's figure too; the PostgreSQL server's own backend CPU counts in no row."
  echo "- Peak RSS: the largest resident set of any *single* process of the command: for a pipeline the"
  echo "  biggest of bash, pg_dump, zstd and pg_restore (not their sum); for Stowage the JVM (bin/stowage execs java;"
  echo "  its pg_dump/pg_restore child is smaller), which runs with -Xmx160m."
  echo "- Output: the compressed backup (for Stowage every file of a fresh repository, manifest included);"
  echo "  for restores, the size of the restored database (both should match)."
  echo "- Pair 4: output is the repository bytes of that one backup (pgBackRest's backup/bench/<label>/, Stowage's"
  echo "  backup directory; neither counts the archived WAL); for restores, the restored data directory (Stowage's"
  echo "  includes the archived WAL it fetches into stowage-wal/; pgBackRest's restore_command fetches it later)."
  echo "  Restores only lay out the directory: the server is not started. pgBackRest runs as the postgres OS user."
  echo
  echo "Raw runs, in order (wall s / CPU s / RSS MiB / output MiB):"
  echo
  for name in limit dump_z3 stowage_l1 dump_z1 stowage_l3 restore_pg restore_stowage pgbr_backup stowage_phys pgbr_restore stowage_phys_restore pgbackrest_info stowage_list; do
    printf -- '- %s: %s\n' "$name" "$(awk '{ size = $4 == "-" ? "-" : sprintf("%.1f", $4 / 1048576)
                                              printf("%s%.3f/%.2f/%.0f/%s", (NR > 1 ? ", " : ""), $1, $2, $3 / 1024, size) }' \
                                        "$tmp/m/$name")"
  done
} >"$report"

mkdir -p "$bench_dir/results"
result=$bench_dir/results/$(date +%F)-scale$scale.md
n=2
while [[ -e $result ]]; do result=$bench_dir/results/$(date +%F)-scale$scale-$n.md; n=$((n + 1)); done
cp "$report" "$result.tmp"
mv "$result.tmp" "$result"
cat "$report"
log "saved to ${result#"$root"/} (last Stowage backup id: $backup_id)"
