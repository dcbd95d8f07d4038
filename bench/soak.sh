#!/usr/bin/env bash
# Soak: the service left running unattended under write load while its S3 repository flaps.
#
#   bench/soak.sh [--minutes N] [--scale N] [--rate TPS] [--period S] [--outage S] [--management-port P] [--nmt]
#
# On this machine, with nothing configured: a throwaway PostgreSQL (initdb, a free port from 57432, archive_command =
# bin/stowage-archive-wal into a spool), an S3 API server beside it (S3Proxy from the test classpath, objects on disk,
# behind a FaultProxy that every --period seconds (180) goes down for --outage seconds (30): REFUSE, HANG, CUT in
# turn), and `stowage run` with two named repositories (local, s3), a physical job `pg` with its WAL route and a
# logical job `pgdump`, each backed up every minute; pgbench writes throughout (-R TPS). Every 30 s a sample goes to a
# CSV: RSS, peak RSS, anonymous RSS, threads, open fds, the spool, the archive metrics, backups succeeded and failed,
# and how long /observe/health and /observe/metrics took to answer. At the end: the backups' outcomes, WAL segments
# produced against those in each repository, a verification of the last logical backup, and a markdown summary
# (min, max, first and last of every series) in bench/results/, with the CSV beside it. Every process it started is
# stopped on exit, however it exits. Not part of the Maven build or CI.
set -euo pipefail
export LC_ALL=C

minutes=60
scale=5
rate=50
period=180
outage=30
management_port=
nmt=false
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --period) period=$2; shift 2 ;;
    --outage) outage=$2; shift 2 ;;
    --management-port) management_port=$2; shift 2 ;;
    --nmt) nmt=true; shift ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in "$minutes" "$scale" "$rate" "$period"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "error: --minutes, --scale, --rate and --period take positive integers" >&2; exit 2; }
done
[[ $outage =~ ^[0-9]+$ ]] && ((outage < period)) || { echo "error: --outage takes an integer below --period" >&2; exit 2; }
[[ -z $management_port || $management_port =~ ^[1-9][0-9]*$ ]] || { echo "error: --management-port takes a port" >&2; exit 2; }

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench_dir")
log() { printf '[soak %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin=/usr/lib/postgresql/$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)/bin
[[ -x $pg_bin/initdb && -x $pg_bin/pg_basebackup && -x $pg_bin/pgbench ]] \
  || die "no PostgreSQL server binaries (initdb, pg_basebackup, pgbench) in /usr/lib/postgresql/*/bin"
command -v curl >/dev/null || die "curl is needed"
command -v java >/dev/null || die "java is needed"
as_pg=()
if [[ $(id -u) == 0 ]]; then
  as_pg=(runuser -u postgres --)
fi

# The jar, and the test classes with their dependencies for the S3 server (built when missing).
jar_src=${STOWAGE_JAR:-$root/target/stowage.jar}
[[ -f $jar_src ]] || (cd "$root" && mvn -q -B -o package -DskipTests) >&2
if [[ ! -f $root/target/test-classes/io/stowage/testing/SoakS3Server.class ]]; then
  (cd "$root" && mvn -q -B -o test-compile) >&2
fi
if [[ ! -s $root/target/soak.classpath || $root/pom.xml -nt $root/target/soak.classpath ]]; then
  (cd "$root" && mvn -q -B -o dependency:build-classpath -Dmdep.outputFile=target/soak.classpath) >&2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stowage-soak.XXXXXX")
data=$tmp/data
spool=$tmp/spool
work=$tmp/work
repo=$tmp/repo
s3store=$tmp/s3store
bucket=stowage-soak
pids=()
service_pid=
kept_logs=${TMPDIR:-/tmp}/stowage-soak-logs
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $service_pid ]] && kill -0 "$service_pid" 2>/dev/null; then
    kill -TERM "$service_pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do kill -0 "$service_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$service_pid" 2>/dev/null || true
  fi
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  [[ -f $data/postmaster.pid ]] && "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
  cp "$data/server.log" "$tmp/logs/postgresql.log" 2>/dev/null || true
  rm -rf "$kept_logs"
  cp -r "$tmp/logs" "$kept_logs" 2>/dev/null && log "logs kept in $kept_logs"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
mkdir -p "$tmp/jar" "$tmp/bin" "$tmp/logs" "$tmp/sock" "$tmp/cp"
cp "$jar_src" "$tmp/jar/stowage.jar"
cp "$root/bin/stowage" "$root/bin/stowage-archive-wal" "$tmp/bin/"
cp -r "$root/target/classes" "$tmp/cp/classes"
cp -r "$root/target/test-classes" "$tmp/cp/test-classes"
cp "$root/target/soak.classpath" "$tmp/cp/dependencies"
chmod 711 "$tmp"
chmod 755 "$tmp/bin" "$tmp/bin/"*
export STOWAGE_JAR=$tmp/jar/stowage.jar

free_port() {
  local p
  for ((p = $1; p < $1 + 200; p++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
    echo "$p"; return 0
  done
  die "no free TCP port in $1..$(($1 + 199))"
}
port=$(free_port 57432)
if [[ -z $management_port ]]; then
  management_port=$(free_port 59890)
elif (exec 3<>"/dev/tcp/127.0.0.1/$management_port") 2>/dev/null; then
  die "the management port $management_port is taken"
fi

# PostgreSQL, archiving into the spool
mkdir -m 700 "$data"
mkdir -m 770 "$spool"
[[ ${#as_pg[@]} -eq 0 ]] || chown postgres "$tmp/sock" "$data" "$spool"
"${as_pg[@]}" "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$tmp/logs/initdb.log" 2>&1 \
  || { cat "$tmp/logs/initdb.log" >&2; die "initdb failed"; }
cat >>"$data/postgresql.conf" <<EOF

# bench/soak.sh
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$tmp/sock'
wal_level = replica
archive_mode = on
archive_command = '$tmp/bin/stowage-archive-wal $spool %p %f'
max_wal_size = '1GB'
EOF
echo "host replication all 127.0.0.1/32 trust" >>"$data/pg_hba.conf"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -w start >/dev/null
psql_q() { env -u PGPASSWORD PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
log "pgbench -i -s $scale on PostgreSQL $(psql_q -c 'show server_version') (port $port)"
env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -i -q -s "$scale" postgres >"$tmp/logs/pgbench-init.log" 2>&1 \
  || { tail "$tmp/logs/pgbench-init.log" >&2; die "pgbench -i failed"; }

# The S3 server, flapping
java -Xmx384m -XX:+UseSerialGC -cp "$tmp/cp/test-classes:$tmp/cp/classes:$(cat "$tmp/cp/dependencies")" \
  io.stowage.testing.SoakS3Server "$s3store" "$bucket" "$tmp/s3.endpoint" "$period" "$outage" \
  >"$tmp/logs/s3.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 120; i++)); do
  [[ -s $tmp/s3.endpoint ]] && break
  kill -0 "${pids[-1]}" 2>/dev/null || { tail "$tmp/logs/s3.log" >&2; die "the S3 server did not start"; }
  sleep 0.5
done
[[ -s $tmp/s3.endpoint ]] || die "the S3 server did not start within a minute"
s3_endpoint=$(cat "$tmp/s3.endpoint")
log "S3 at $s3_endpoint, down $outage s every $period s (REFUSE, HANG, CUT in turn)"

# The service's configuration: the shipped one, two named repositories, a physical and a logical job
mkdir -p "$work"
cp "$root/application.properties" "$work/"
cp -r "$root/routes" "$work/routes"
cat >>"$work/application.properties" <<EOF

## bench/soak.sh
stowage.repositories = local, s3
stowage.repository.local.type = local
stowage.repository.s3.type = s3
EOF
job_params() {
  cat <<YAML
      - name: host
        value: 127.0.0.1
      - name: port
        value: "$port"
      - name: user
        value: postgres
      - name: pgBin
        value: $pg_bin
YAML
}
schedule() {
  cat <<YAML
- templatedRoute:
    routeTemplateRef: schedule
    routeId: schedule-$1-full
    parameters:
      - name: job
        value: $1
      - name: type
        value: full
      - name: cron
        value: "$2"
YAML
}
{
  echo "- templatedRoute:"
  echo "    routeTemplateRef: postgresql-physical"
  echo "    routeId: backup-pg"
  echo "    parameters:"
  echo "      - name: job"
  echo "        value: pg"
  job_params
  echo "- templatedRoute:"
  echo "    routeTemplateRef: postgresql-wal"
  echo "    routeId: wal-pg"
  echo "    parameters:"
  echo "      - name: job"
  echo "        value: pg"
  echo "      - name: spool"
  echo "        value: $spool"
  echo "- templatedRoute:"
  echo "    routeTemplateRef: postgresql-logical"
  echo "    routeId: backup-pgdump"
  echo "    parameters:"
  echo "      - name: job"
  echo "        value: pgdump"
  job_params
  schedule pg "0 * * * * ?"
  schedule pgdump "30 * * * * ?"
} >"$work/routes/jobs.camel.yaml"

java_opts=${STOWAGE_JAVA_OPTS:-}
if $nmt; then
  java_opts="$java_opts -XX:NativeMemoryTracking=summary"
fi
stowage_env=(env -u PGPASSWORD -u STOWAGE_S3_PREFIX -u STOWAGE_SLACK_WEBHOOK_URL -u STOWAGE_PAGERDUTY_ROUTING_KEY
  -u AGE_RECIPIENTS -u AGE_PASSPHRASE_FILE -u AWS_PROFILE -u AWS_SESSION_TOKEN
  STOWAGE_REPOSITORY="$repo" STOWAGE_S3_BUCKET="$bucket" AWS_ENDPOINT_URL_S3="$s3_endpoint" AWS_REGION=us-east-1
  AWS_ACCESS_KEY_ID=stowage-test-access AWS_SECRET_ACCESS_KEY=stowage-test-secret
  STOWAGE_MANAGEMENT_PORT="$management_port" STOWAGE_JAVA_OPTS="$java_opts")
stowage() { (cd "$work" && exec "${stowage_env[@]}" "$tmp/bin/stowage" "$@"); }

(cd "$work" && exec "${stowage_env[@]}" "$tmp/bin/stowage" run) >"$tmp/logs/service.log" 2>&1 &
service_pid=$!
base=http://127.0.0.1:$management_port/observe
for ((i = 0; i < 120; i++)); do
  curl -fs -o /dev/null "$base/health" && break
  kill -0 "$service_pid" 2>/dev/null || { tail -n 20 "$tmp/logs/service.log" >&2; die "the service did not start"; }
  sleep 1
done
curl -fs -o /dev/null "$base/health" || { tail -n 20 "$tmp/logs/service.log" >&2; die "the service is not healthy after 2 minutes"; }
log "service pid $service_pid, health and metrics on $base/ (java options: ${java_opts:-none})"

seconds=$((minutes * 60))
env PGHOST=127.0.0.1 PGPORT="$port" PGUSER=postgres "$pg_bin/pgbench" -n -c 2 -j 1 -R "$rate" -T "$seconds" postgres \
  >"$tmp/logs/pgbench.log" 2>&1 &
pgbench_pid=$!
pids+=("$pgbench_pid")
log "pgbench -c 2 -R $rate for $minutes min"

# waits until S3 is up and stays up for at least a minute more (the flapper's next outage is period - outage after a PASS)
wait_for_s3_window() {
  local line since
  for ((i = 0; i < period + 60; i++)); do
    line=$(tail -n 1 "$tmp/logs/s3.log")
    if [[ $line == *" PASS"* ]]; then
      since=$(($(date +%s) - $(date -d "${line%% *}" +%s)))
      ((outage == 0 || since + 60 < period - outage)) && return 0
    fi
    sleep 1
  done
}
in_s3() {
  python3 -c 'import json, sys; print(sum(1 for b in json.load(open(sys.argv[1])) if b["job"] == sys.argv[2] and "s3" in b["repositories"]))' "$list_json" "$1" 2>/dev/null || echo "?"
}
# sum of every sample of one metric (any labels) in a Prometheus text file; empty when it has none
metric() {
  awk -v name="$1" '$1 == name || index($1, name "{") == 1 { s += $NF; n++ } END { if (n) printf "%.0f", s }' "$2"
}
# glibc malloc arenas of the service: anonymous mappings at a 64 MiB boundary whose own size plus the reserved
# (---p) mapping right after it make 64 MiB (a non-main arena's heap); prints "count,resident_kb,java_heap_kb"
arenas() {
  python3 - "/proc/$service_pid/smaps" <<'PY' 2>/dev/null || echo ",,"
import re, sys
maps = []
for line in open(sys.argv[1]):
    m = re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$', line)
    if m:
        maps.append([int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4) == '0' and not m.group(5).strip(), 0])
    elif line.startswith('Rss:') and maps:
        maps[-1][4] = int(line.split()[1])
heap = 64 << 20
count = rss = 0
for i, (start, end, perms, anon, kb) in enumerate(maps):
    if not anon or start % heap or perms[0] != 'r':
        continue
    size = end - start
    if i + 1 < len(maps) and maps[i + 1][0] == end and maps[i + 1][2].startswith('---'):
        size += maps[i + 1][1] - maps[i + 1][0]
    if size == heap:
        count += 1
        rss += kb
# the Java heap: the largest anonymous mapping (reserved whole at start, -Xmx), and how much of it is resident
java_heap = max((m for m in maps if m[3]), key=lambda m: m[1] - m[0], default=[0, 0, '', True, 0])[4]
print(f"{count},{rss},{java_heap}")
PY
}
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$service_pid/status" 2>/dev/null; }
csv=$tmp/logs/soak.csv
echo "elapsed_s,rss_kb,hwm_kb,rss_anon_kb,threads,fds,spool_files,spool_bytes,archive_lag_s,archive_rpo_s,archive_segments,backups_ok,backups_failed,health_code,health_ms,metrics_ms,arenas,arena_rss_kb,java_heap_rss_kb,nmt_committed_kb,s3_mode" >"$csv"
started=$(date +%s)
sample() {
  local elapsed=$(($(date +%s) - started)) rss hwm anon threads fds files bytes hc hm mm nmt_kb=""
  rss=$(status_kb VmRSS); hwm=$(status_kb VmHWM); anon=$(status_kb RssAnon); threads=$(status_kb Threads)
  fds=$(ls "/proc/$service_pid/fd" 2>/dev/null | wc -l)
  files=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
  bytes=$(find "$spool" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
  read -r hc hm < <(curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' "$base/health" || echo "000 30")
  read -r _ mm < <(curl -s -o "$tmp/metrics.txt" -m 30 -w '%{http_code} %{time_total}\n' "$base/metrics" || echo "000 30")
  if $nmt; then
    jcmd "$service_pid" VM.native_memory summary >"$tmp/logs/nmt-$elapsed.txt" 2>/dev/null || true
    nmt_kb=$(awk '/^Total:/ { for (i = 1; i <= NF; i++) if ($i ~ /^committed=/) { sub("committed=", "", $i); sub("KB", "", $i); print $i } }' "$tmp/logs/nmt-$elapsed.txt")
  fi
  echo "$elapsed,$rss,$hwm,$anon,$threads,$fds,$files,$bytes,$(metric stowage_archive_lag_seconds "$tmp/metrics.txt"),$(metric stowage_archive_rpo_seconds "$tmp/metrics.txt"),$(metric stowage_archive_segments_total "$tmp/metrics.txt"),$(metric stowage_backup_duration_seconds_count "$tmp/metrics.txt"),$(metric stowage_backup_failures_total "$tmp/metrics.txt"),$hc,$(awk -v t="$hm" 'BEGIN { printf "%.0f", t * 1000 }'),$(awk -v t="$mm" 'BEGIN { printf "%.0f", t * 1000 }'),$(arenas),$nmt_kb,$(tail -n 1 "$tmp/logs/s3.log" | awk '{ print $2 }')" >>"$csv"
}
sample
while (($(date +%s) - started < seconds)); do
  sleep 30
  kill -0 "$service_pid" 2>/dev/null || die "the service died (log: $kept_logs/service.log)"
  sample
  tail -n 1 "$csv" | awk -F, '{ printf "[soak] %5d s  RSS %d MiB  threads %d  fds %d  spool %d  ok %s failed %s\n", $1, $2 / 1024, $5, $6, $7, $12, $13 }' >&2
done
wait "$pgbench_pid" 2>/dev/null || true
tps=$(awk '/^tps = / { printf "%.1f", $3; exit }' "$tmp/logs/pgbench.log")

# Drain: the last segment closed, then until the spool is empty (through the outages, at most 4 minutes)
last=$(psql_q -c "select pg_walfile_name(pg_switch_wal())")
log "load over; waiting for the spool to drain (last segment $last)"
for ((i = 0; i < 240; i++)); do
  n=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
  ((n == 0)) && [[ -f $repo/pg/wal/$last.zst.sha256 ]] && break
  sleep 1
done
drain_s=$i
sample

# Outcomes
read -r archived archive_failed < <(psql_q -F ' ' -c "select archived_count, failed_count from pg_stat_archiver")
count_wal() { { find "$1" -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}(\.[0-9A-F]{8}\.backup)?\.zst' 2>/dev/null || true; } | wc -l; }
wal_local=$(count_wal "$repo/pg/wal")
wal_s3=$(count_wal "$s3store/$bucket/pg/wal")
spool_left=$(find "$spool" -maxdepth 1 -type f -regextype posix-extended -regex '.*/[0-9A-F]{24}' | wc -l)
# from the service's log: backups complete in the first repository, and backups that failed after every attempt
completed() { grep -cE "CatalogStep - backup [0-9TZ-]+F of job $1 complete in" "$tmp/logs/service.log" || true; }
failed() { grep -cE "backup of job $1 \([a-z]+\) failed after" "$tmp/logs/service.log" || true; }
list_json=$tmp/list.json
wait_for_s3_window
stowage list --json >"$list_json" 2>"$tmp/logs/list.err" || true
listed() {
  python3 -c 'import json, sys; print(sum(1 for b in json.load(open(sys.argv[1])) if b["job"] == sys.argv[2]))' "$list_json" "$1" 2>/dev/null || echo "?"
}
wait_for_s3_window
log "verifying the last logical backup (S3 up)"
verify_start=$(date +%s)
if stowage verify pgdump --backup latest >"$tmp/logs/verify.log" 2>&1; then verify=passed; else verify="failed (exit $?)"; fi
verify_s=$(($(date +%s) - verify_start))
kill -TERM "$service_pid"
for ((i = 0; i < 90; i++)); do kill -0 "$service_pid" 2>/dev/null || break; sleep 1; done
service_exit=running
if ! kill -0 "$service_pid" 2>/dev/null; then
  wait "$service_pid" 2>/dev/null && service_exit=0 || service_exit=$?
  service_pid=
fi
warn_lines=$(grep -c ' WARN ' "$tmp/logs/service.log" || true)
error_lines=$(grep -c ' ERROR ' "$tmp/logs/service.log" || true)
outages=$(grep -cE ' (REFUSE|HANG|CUT)$' "$tmp/logs/s3.log" || true)

# Summary
mkdir -p "$bench_dir/results"
name=$(date -u +%Y-%m-%d)-soak-${minutes}m
out=$bench_dir/results/$name.md
n=2
while [[ -e $out ]]; do out=$bench_dir/results/$name-$n.md; n=$((n + 1)); done
cp "$csv" "${out%.md}.csv"
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "# Soak: $minutes minutes, S3 down $outage s every $period s"
  echo
  echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($cpu), PostgreSQL $(psql_q -c 'show server_version'),"
  echo "  commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown), java options: \`${java_opts:-none}\` (besides bin/stowage's own)."
  echo "- pgbench scale $scale, 2 clients at $rate TPS for $minutes min (achieved $tps TPS); jobs \`pg\` (physical, WAL by"
  echo "  archive_command) and \`pgdump\` (logical), full backups every minute each; repositories \`local\` and \`s3\`"
  echo "  (S3Proxy behind a FaultProxy: $outages outages, REFUSE, HANG and CUT in turn)."
  echo "- Samples every 30 s: \`$(basename "${out%.md}.csv")\`."
  echo
  echo "| series | first | min | max | last |"
  echo "|---|--:|--:|--:|--:|"
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
    { for (i = 2; i <= NF - 1; i++) if ($i != "") { v = $i + 0; if (!(i in first)) { first[i] = v; min[i] = v; max[i] = v }
        if (v < min[i]) min[i] = v; if (v > max[i]) max[i] = v; last[i] = v } }
    END { for (i = 2; i <= NF - 1; i++) if (i in first) {
        s = h[i]; f = 1; if (s ~ /_kb$/) { sub(/_kb$/, "_mib", s); f = 1024 }
        printf "| %s | %.0f | %.0f | %.0f | %.0f |\n", s, first[i] / f, min[i] / f, max[i] / f, last[i] / f } }' "$csv"
  echo
  echo "| outcome | |"
  echo "|---|---|"
  echo "| physical backups (service log) | $(completed pg) complete (in local at least), $(failed pg) failed after every attempt (a copy to s3 that failed included) |"
  echo "| logical backups (service log) | $(completed pgdump) complete (in local at least), $(failed pgdump) failed after every attempt (a copy to s3 that failed included) |"
  echo "| listed (\`list --json\`): pg / pgdump | $(listed pg) / $(listed pgdump), of which with a copy in s3: $(in_s3 pg) / $(in_s3 pgdump) |"
  echo "| WAL files archived by the server (pg_stat_archiver: segments and backup history files) | $archived ($archive_failed archive_command failures) |"
  echo "| the same in local / in s3 / left in the spool | $wal_local / $wal_s3 / $spool_left (drained in $drain_s s after the load) |"
  echo "| verify pgdump --backup latest | $verify, $verify_s s |"
  echo "| service stop (SIGTERM) | exit status $service_exit |"
  echo "| service log | $warn_lines WARN lines, $error_lines ERROR lines |"
} >"$out"
cat "$out"
log "report in $out"
