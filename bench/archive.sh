#!/usr/bin/env bash
# WAL archiving under write load: how fast Stowage archives a busy server's WAL, and how far behind it falls.
#
#   bench/archive.sh [--scale N] [--seconds S] [--clients C]
#
# On a throwaway cluster of its own (initdb under a temp dir, a free port from 56432, stopped on exit; as root, run as
# the postgres OS user), three rounds of the same pgbench write load (tpcb-like, C clients, S seconds):
#   none            archive_mode = off: the server's own throughput, the baseline;
#   archive_command archive_command = bin/stowage-archive-wal into a spool, the Stowage service shipping it;
#   pg_receivewal   archive_mode = off, the Stowage service streaming WAL through a replication slot.
# Then a backlog: WAL piled up with the service stopped, and the time the service takes to ship it (throughput).
# Every second it samples the spool: files waiting, and the age of the oldest finished WAL file there (the lag).
# Reports TPS, WAL written, WAL archived while the load ran and after, the archive rate, the largest lag and backlog,
# and how long the backlog took to drain once the load stopped. Markdown to stdout and bench/results/.
# Not part of the Maven build or CI.
set -euo pipefail
export LC_ALL=C

scale=20
seconds=60
clients=4
while (($#)); do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in "$scale" "$seconds" "$clients"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "error: --scale, --seconds and --clients take positive integers" >&2; exit 2; }
done

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench_dir")
log() { printf '[archive %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin=/usr/lib/postgresql/$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)/bin
[[ -x $pg_bin/initdb && -x $pg_bin/pg_receivewal && -x $pg_bin/pgbench ]] \
  || die "no PostgreSQL server binaries (initdb, pg_receivewal, pgbench) in /usr/lib/postgresql/*/bin"
as_pg=()
if [[ $(id -u) == 0 ]]; then
  as_pg=(runuser -u postgres --)
fi
jar_src=${STOWAGE_JAR:-$root/target/stowage.jar}
[[ -f $jar_src ]] || (cd "$root" && mvn -q -B -o package -DskipTests) >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stowage-archive-bench.XXXXXX")
data=$tmp/data
service_pid=
cleanup() {
  local rc=$?
  [[ -n $service_pid ]] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  [[ -f $data/postmaster.pid ]] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
  if ((rc != 0)); then
    rm -rf "${TMPDIR:-/tmp}/stowage-archive-bench-logs"
    cp -r "$tmp/logs" "${TMPDIR:-/tmp}/stowage-archive-bench-logs" 2>/dev/null \
      && log "logs kept in ${TMPDIR:-/tmp}/stowage-archive-bench-logs"
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
mkdir -p "$tmp/jar" "$tmp/bin" "$tmp/logs" "$tmp/sock"
cp "$jar_src" "$tmp/jar/stowage.jar"
cp "$root/bin/stowage" "$root/bin/stowage-archive-wal" "$tmp/bin/"
# the configuration as it is now: editing the project during a run changes nothing
cp -r "$root/routes" "$tmp/routes"
cp "$root/application.properties" "$tmp/application.properties"
export STOWAGE_JAR=$tmp/jar/stowage.jar
chmod 711 "$tmp"
chmod 755 "$tmp/bin" "$tmp/bin/"*

free_port() {
  local p
  for ((p = $1; p < $1 + 200; p++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    echo "$p"; return 0
  done
  die "no free TCP port in $1..$(($1 + 199))"
}
port=$(free_port 56432)
mgmt_port=$(free_port 59976)
mkdir -m 700 "$data"
[[ ${#as_pg[@]} -eq 0 ]] || chown postgres "$tmp/sock" "$data"
"${as_pg[@]}" "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$tmp/logs/initdb.log" 2>&1 \
  || { cat "$tmp/logs/initdb.log" >&2; die "initdb failed"; }
cat >>"$data/postgresql.conf" <<EOF

# bench/archive.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/sock'
wal_level = replica
max_wal_size = '4GB'
EOF
echo "host replication all 127.0.0.1/32 trust" >>"$data/pg_hba.conf"
pg() { "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w "$@" >/dev/null; }
psql_q() { env -u PGPASSWORD PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
pg start
log "pgbench -i -s $scale on PostgreSQL $(psql_q -c 'show server_version') (port $port)"
env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -i -q -s "$scale" postgres >"$tmp/logs/init.log" 2>&1 \
  || { tail "$tmp/logs/init.log" >&2; die "pgbench -i failed"; }
psql_q -c checkpoint

# work_dir RECEIVER SPOOL: a work dir with the physical job and its WAL route
work_dir() {
  local w=$tmp/work-$1
  mkdir -p "$w"
  cp "$tmp/application.properties" "$w/"
  sed -i "s/^camel\.management\.port *=.*/camel.management.port = $mgmt_port/" "$w/application.properties"
  cp -r "$tmp/routes" "$w/routes"
  cat >"$w/routes/jobs.camel.yaml" <<YAML
- templatedRoute:
    routeTemplateRef: postgresql-physical
    routeId: backup-postgres
    parameters:
      - name: job
        value: postgres
      - name: host
        value: 127.0.0.1
      - name: port
        value: "$port"
      - name: user
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
        value: $2
      - name: receiver
        value: $1
YAML
  echo "$w"
}

# sample SPOOL OUT: every second, "<files waiting> <age in s of the oldest finished WAL file>"
sample() {
  local spool=$1 out=$2 now oldest files
  while :; do
    now=$(date +%s)
    files=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' -printf '%T@\n' 2>/dev/null | sort -n)
    if [[ -z $files ]]; then
      echo "0 0"
    else
      oldest=${files%%$'\n'*}
      echo "$(wc -l <<<"$files") $((now - ${oldest%.*}))"
    fi
    sleep 1
  done >"$out"
}

wal_lsn() { psql_q -c 'select pg_current_wal_lsn()'; }
wal_bytes() { psql_q -c "select pg_wal_lsn_diff('$2', '$1')::bigint"; }

declare -A tps wal archived_during drained max_lag max_files drain_s
run_round() {
  local mode=$1 spool=$tmp/spool-$1 w start_lsn end_lsn during total=0 started ended
  mkdir -p "$spool"
  [[ ${#as_pg[@]} -eq 0 ]] || chown postgres "$spool"
  chmod 770 "$spool"
  case $mode in
    none) psql_q -c "alter system set archive_mode = off" ;;
    archive_command)
      psql_q -c "alter system set archive_mode = on" \
        -c "alter system set archive_command = '$tmp/bin/stowage-archive-wal $spool %p %f'" ;;
    pg_receivewal) psql_q -c "alter system set archive_mode = off" ;;
  esac
  pg restart
  if [[ $mode != none ]]; then
    w=$(work_dir "$mode" "$spool")
    (cd "$w" && exec env -u PGPASSWORD STOWAGE_REPOSITORY="$tmp/repo-$mode" "$tmp/bin/stowage" run) \
      >"$tmp/logs/service-$mode.log" 2>&1 &
    service_pid=$!
    for ((i = 0; i < 60; i++)); do
      curl -fs "http://127.0.0.1:$mgmt_port/observe/health" >/dev/null 2>&1 && break
      sleep 1
    done
    sample "$spool" "$tmp/samples-$mode" &
    sampler=$!
  fi
  psql_q -c checkpoint -c "select pg_switch_wal()" >/dev/null
  sleep 2
  local repo_wal=$tmp/repo-$mode/postgres/wal
  local before=0
  [[ -d $repo_wal ]] && before=$(find "$repo_wal" -name '*.zst' | wc -l)
  true
  start_lsn=$(wal_lsn)
  log "$mode: pgbench -c $clients -j 2 -T $seconds"
  env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -c "$clients" -j 2 -T "$seconds" -n postgres \
    >"$tmp/logs/pgbench-$mode.log" 2>&1 || { tail "$tmp/logs/pgbench-$mode.log" >&2; die "pgbench failed"; }
  end_lsn=$(wal_lsn)
  tps[$mode]=$(awk '/^tps = / { printf "%.0f", $3; exit }' "$tmp/logs/pgbench-$mode.log")
  wal[$mode]=$(wal_bytes "$start_lsn" "$end_lsn")
  if [[ $mode != none ]]; then
    during=$({ find "$repo_wal" -name '*.zst' 2>/dev/null || true; } | wc -l)
    archived_during[$mode]=$((during - before))
    # close the last segment, then wait until everything written under load is in the repository
    local last
    last=$(psql_q -c "select pg_walfile_name(pg_switch_wal())")
    started=$(date +%s.%N)
    for ((i = 0; i < 600; i++)); do
      [[ -f $repo_wal/$last.zst.sha256 ]] && break
      sleep 0.5
    done
    [[ -f $repo_wal/$last.zst.sha256 ]] || die "$mode: $last was not archived within 5 minutes"
    ended=$(date +%s.%N)
    drain_s[$mode]=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
    total=$(find "$repo_wal" -name '*.zst' | wc -l)
    drained[$mode]=$((total - before))
    kill "$sampler"; wait "$sampler" 2>/dev/null || true
    max_lag[$mode]=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$tmp/samples-$mode")
    max_files[$mode]=$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$tmp/samples-$mode")
    kill "$service_pid"; wait "$service_pid" 2>/dev/null || true
    service_pid=
  fi
  log "$mode: ${tps[$mode]} tps, $((wal[$mode] / 1048576)) MiB of WAL"
}

# backlog: WAL piled up in the spool while the service was down (archive_command on, no service), then the service
# started: the time it takes to ship the backlog is the archive's throughput, free of the load's own pace.
backlog_round() {
  local spool=$tmp/spool-backlog files bytes started ended repo_wal=$tmp/repo-backlog/postgres/wal last
  mkdir -p "$spool"
  [[ ${#as_pg[@]} -eq 0 ]] || chown postgres "$spool"
  chmod 770 "$spool"
  psql_q -c "alter system set archive_mode = on" \
    -c "alter system set archive_command = '$tmp/bin/stowage-archive-wal $spool %p %f'"
  pg restart
  log "backlog: pgbench -c $clients -j 2 -T $seconds with the service stopped"
  env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -c "$clients" -j 2 -T "$seconds" -n postgres \
    >"$tmp/logs/pgbench-backlog.log" 2>&1 || { tail "$tmp/logs/pgbench-backlog.log" >&2; die "pgbench failed"; }
  last=$(psql_q -c "select pg_walfile_name(pg_switch_wal())")
  for ((i = 0; i < 120; i++)); do
    [[ -f $spool/$last ]] && break
    sleep 0.5
  done
  files=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
  bytes=$(du -sb "$spool" | cut -f1)
  w=$(work_dir archive_command "$spool")
  started=$(date +%s.%N)
  (cd "$w" && exec env -u PGPASSWORD STOWAGE_REPOSITORY="$tmp/repo-backlog" "$tmp/bin/stowage" run) \
    >"$tmp/logs/service-backlog.log" 2>&1 &
  service_pid=$!
  for ((i = 0; i < 1200; i++)); do
    [[ -f $repo_wal/$last.zst.sha256 ]] && break
    sleep 0.25
  done
  [[ -f $repo_wal/$last.zst.sha256 ]] || die "backlog: $last was not archived within 5 minutes"
  ended=$(date +%s.%N)
  kill "$service_pid"; wait "$service_pid" 2>/dev/null || true
  service_pid=
  backlog_files=$files
  backlog_mib=$((bytes / 1048576))
  backlog_s=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f", b - a }')
  backlog_rate=$(awk -v f="$files" -v s="$backlog_s" 'BEGIN { printf "%.1f", f / s }')
  backlog_mibs=$(awk -v m="$backlog_mib" -v s="$backlog_s" 'BEGIN { printf "%.0f", m / s }')
  stored_mib=$(( $(du -sb "$repo_wal" | cut -f1) / 1048576 ))
  log "backlog: $files segments ($backlog_mib MiB) shipped in $backlog_s s, JVM start included"
}

log "warm-up: pgbench -c $clients -j 2 -T 15 (not measured)"
env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -c "$clients" -j 2 -T 15 -n postgres \
  >"$tmp/logs/pgbench-warmup.log" 2>&1 || { tail "$tmp/logs/pgbench-warmup.log" >&2; die "pgbench failed"; }
for mode in none archive_command pg_receivewal; do
  run_round "$mode"
done
backlog_round

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
report=$(
  echo "# WAL archiving under pgbench write load"
  echo
  echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($cpu), PostgreSQL $(psql_q -c 'show server_version'),"
  echo "  pgbench scale $scale, $clients clients, $seconds s per round (tpcb-like), Stowage as shipped (zstd 1 for WAL)."
  echo "- Lag: the age of the oldest finished WAL file waiting in the spool, sampled every second while the load ran"
  echo "  and until the backlog drained. Drain: from the load's end (and a WAL switch) to the last segment in the repository."
  echo
  echo "| Round | TPS | ×none | WAL MiB | MiB/s written | Segments in the repository at the load's end | in all | Max lag s | Max files waiting | Drain s |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  for mode in none archive_command pg_receivewal; do
    ratio=$(awk -v a="${tps[$mode]}" -v b="${tps[none]}" 'BEGIN { printf "%.2f", a / b }')
    mib=$((wal[$mode] / 1048576))
    rate=$(awk -v m="$mib" -v s="$seconds" 'BEGIN { printf "%.1f", m / s }')
    if [[ $mode == none ]]; then
      echo "| $mode (baseline) | ${tps[$mode]} | 1.00 | $mib | $rate | — | — | — | — | — |"
    else
      echo "| $mode | ${tps[$mode]} | $ratio | $mib | $rate | ${archived_during[$mode]} | ${drained[$mode]} | ${max_lag[$mode]} | ${max_files[$mode]} | ${drain_s[$mode]} |"
    fi
  done
  echo
  echo "Backlog: $backlog_files WAL segments ($backlog_mib MiB) written while the service was stopped, shipped when it"
  echo "started in **$backlog_s s** (JVM start included): **$backlog_rate segments/s, $backlog_mibs MiB/s** of WAL"
  echo "compressed, hashed and stored ($stored_mib MiB in the repository), the most the archive can absorb on this machine."
)
echo "$report"
out=$bench_dir/results/$(date -u +%Y-%m-%d)-archive-scale$scale.md
n=2
while [[ -e $out ]]; do out=$bench_dir/results/$(date -u +%Y-%m-%d)-archive-scale$scale-$n.md; n=$((n + 1)); done
echo "$report" >"$out"
log "report saved to ${out#"$root"/}"
