#!/usr/bin/env bash
# Expiry at S3 scale: how long `stowage expire` takes to remove a large WAL archive from an S3 repository.
#
#   bench/expire.sh [--segments N] [--backups B] [--threads T] [--populate files|api] [--listing index|plain]
#
# On this machine, with nothing configured: the test S3 server (S3Proxy from the test classpath, objects on disk in a
# temporary directory, no faults: io.stowage.testing.SoakS3Server with a period of 0) holding one physical PostgreSQL
# job `main`: N WAL segments (100000) each with its .sha256 checksum file (2N objects), a promotion to timeline 2 near
# the end with its history file, and B full backups (4), each a small base.tar.zst, a .backup history file in the
# archive and a manifest whose WAL range is three segments, spread over the range, the newest about 100 segments
# before the end (io.stowage.testing.ExpireBench). --populate files (the default) writes the segments and their
# checksum files straight into S3Proxy's store, as S3Proxy stores what it is sent (file mode, extended attributes,
# MD5 and SHA-256), and a sample is read back through the API; everything else goes through the API (T parallel PUTs,
# 16). --populate api sends every object through the API. Either way a full listing through the API checks that the
# bucket holds exactly that before anything is timed.
#
# S3Proxy's filesystem store walks the whole directory for every page of a listing (O(N²) for N objects);
# --listing index (the default) serves flat listings from a sorted index instead (ListingIndexBlobStore), so that a
# listing costs what it costs on S3; S3Proxy's own page time is then probed (5 pages, through a second server on the
# same store) and reported. --listing plain leaves S3Proxy's listing as it is.
#
# Then a Stowage workspace with repositories `local` (home) and `s3`, and the job with `retention: 1` (PostgreSQL at
# 127.0.0.1:1, where nothing listens), and, timed, `stowage expire main --repository s3` (with /usr/bin/time -v), a
# listing that checks exactly the newest backup, its WAL and everything after its start and the timeline history
# file remain, and a second expire (nothing to do). The S3 server logs every call with its own time
# (CallLogBlobStore), so the report says where the time went. The report goes to stdout and
# bench/results/<date>-expire-<N>.md. Every process it started is stopped on exit. Not part of the Maven build or CI.
set -euo pipefail
export LC_ALL=C

segments=100000
backups=4
threads=16
populate=files
listing=index
while (($#)); do
  case $1 in
    --segments) segments=$2; shift 2 ;;
    --backups) backups=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --populate) populate=$2; shift 2 ;;
    --listing) listing=$2; shift 2 ;;
    -h|--help) sed -n 2,29p "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for v in "$segments" "$backups" "$threads"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "error: --segments, --backups and --threads take positive integers" >&2; exit 2; }
done
((segments >= 100 && backups <= segments / 25)) || { echo "error: need --segments >= 100 and --backups <= segments / 25" >&2; exit 2; }
[[ $populate == files || $populate == api ]] || { echo "error: --populate takes files or api" >&2; exit 2; }
[[ $listing == index || $listing == plain ]] || { echo "error: --listing takes index or plain" >&2; exit 2; }
command_line="bench/expire.sh --segments $segments --backups $backups --threads $threads --populate $populate --listing $listing"

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$bench_dir")
log() { printf '[expire %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
command -v java >/dev/null || die "java is needed"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"

# The jar, and the test classes with their dependencies for the S3 server (built when missing, offline).
jar_src=${STOWAGE_JAR:-$root/target/stowage.jar}
[[ -f $jar_src ]] || (cd "$root" && mvn -q -B -o package -DskipTests) >&2
if [[ ! -f $root/target/test-classes/io/stowage/testing/ExpireBench.class ]]; then
  (cd "$root" && mvn -q -B -o test-compile) >&2
fi
if [[ ! -s $root/target/soak.classpath || $root/pom.xml -nt $root/target/soak.classpath ]]; then
  # dependency:build-classpath as soak.sh does; when that plugin cannot be resolved offline, the test classpath the
  # compiler plugin reports (every entry a jar of the local repository)
  (cd "$root" && mvn -q -B -o dependency:build-classpath -Dmdep.outputFile=target/soak.classpath) >/dev/null 2>&1 \
    || (cd "$root" && mvn -o -B -X test-compile 2>/dev/null | sed -n 's/^\[DEBUG\]   (f) testPath = \[\(.*\)\]$/\1/p' \
      | head -n 1 | sed 's/, /\n/g' | grep '\.jar$' | paste -sd: >target/soak.classpath)
  [[ -s $root/target/soak.classpath ]] || die "cannot build the test classpath (target/soak.classpath)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/stowage-expire.XXXXXX")
work=$tmp/work
s3store=$tmp/s3store
bucket=stowage-expire
calls=$tmp/logs/s3-calls.log
pids=()
kept_logs=${TMPDIR:-/tmp}/stowage-expire-logs
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  local p
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$kept_logs"
  cp -r "$tmp/logs" "$kept_logs" 2>/dev/null && log "logs kept in $kept_logs"
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
mkdir -p "$tmp/jar" "$tmp/bin" "$tmp/logs" "$tmp/cp" "$tmp/keys"
cp "$jar_src" "$tmp/jar/stowage.jar"
cp "$root/bin/stowage" "$tmp/bin/"
cp -r "$root/target/classes" "$tmp/cp/classes"
cp -r "$root/target/test-classes" "$tmp/cp/test-classes"
cp "$root/target/soak.classpath" "$tmp/cp/dependencies"
export STOWAGE_JAR=$tmp/jar/stowage.jar
classpath="$tmp/cp/test-classes:$tmp/cp/classes:$(cat "$tmp/cp/dependencies")"
bench() { java -Xmx1g -cp "$classpath" io.stowage.testing.ExpireBench "$@"; }
now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $load_start ($(nproc) cores)"

# An S3 server, without faults, on the store: start_s3 NAME [JAVA OPTIONS]; its endpoint in $tmp/NAME.endpoint
start_s3() {
  local name=$1
  shift
  java -Xmx1g -XX:+UseSerialGC "$@" -cp "$classpath" io.stowage.testing.SoakS3Server "$s3store" "$bucket" \
    "$tmp/$name.endpoint" 0 0 >"$tmp/logs/$name.log" 2>&1 &
  pids+=($!)
  for ((i = 0; i < 120; i++)); do
    [[ -s $tmp/$name.endpoint ]] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { tail "$tmp/logs/$name.log" >&2; die "the S3 server did not start"; }
    sleep 0.5
  done
  die "the S3 server did not start within a minute"
}
server_options=(-Dstowage.bench.s3.call-log="$calls")
[[ $listing == index ]] && server_options+=(-Dstowage.bench.s3.listing-index=true)
start_s3 s3 "${server_options[@]}"
s3_endpoint=$(cat "$tmp/s3.endpoint")
log "S3 at $s3_endpoint (S3Proxy, filesystem store in $s3store, no faults, listing: $listing)"

# The archive, through the API
log "populating: $segments WAL segments with checksum files, $backups backups ($populate, $threads threads)"
store_arg=()
[[ $populate == files ]] && store_arg=("$s3store")
t0=$(now_ms)
populated=$(bench populate "$s3_endpoint" "$bucket" main "$segments" "$backups" "$threads" "$tmp/keys" "${store_arg[@]}")
t1=$(now_ms)
populate_s=$(secs "$t0" "$t1")
log "populated in $populate_s s: $populated"
objects_all=$(wc -l <"$tmp/keys/keys-all.txt")
objects_kept=$(wc -l <"$tmp/keys/keys-kept.txt")
newest=$(sed -n 's/.* newest=\([^ ]*\).*/\1/p' <<<"$populated")
from_segment=$(sed -n 's/.* from=\([^ ]*\).*/\1/p' <<<"$populated")

log "checking the bucket through the API (a full listing of main/)"
t0=$(now_ms)
listed_before=$(bench list "$s3_endpoint" "$bucket" main/ "$tmp/keys/listed-before.txt")
t1=$(now_ms)
list_before_s=$(secs "$t0" "$t1")
cmp -s "$tmp/keys/listed-before.txt" "$tmp/keys/keys-all.txt" \
  || die "the bucket does not hold what was written: $(diff "$tmp/keys/keys-all.txt" "$tmp/keys/listed-before.txt" | head -n 5)"
log "listed in $list_before_s s: $listed_before"

probe=""
if [[ $listing == index ]]; then
  log "probing S3Proxy's own listing: 5 pages of main/wal/ through a second server on the same store, without the index"
  start_s3 s3-plain
  probe=$(bench list "$(cat "$tmp/s3-plain.endpoint")" "$bucket" main/wal/ "$tmp/keys/probe.txt" 5)
  kill -TERM "${pids[-1]}" 2>/dev/null || true
  wait "${pids[-1]}" 2>/dev/null || true
  unset 'pids[-1]'
  log "S3Proxy's own listing: $probe"
fi

# The workspace: the shipped configuration, repositories local (home) and s3, one physical job with retention 1
mkdir -p "$work"
cp "$root/application.properties" "$work/"
cp -r "$root/routes" "$work/routes"
cat >>"$work/application.properties" <<EOF

## bench/expire.sh
stowage.repositories = local, s3
stowage.repository.local.type = local
stowage.repository.s3.type = s3
EOF
cat >"$work/routes/jobs.camel.yaml" <<YAML
- templatedRoute:
    routeTemplateRef: postgresql-physical
    routeId: backup-main
    parameters:
      - name: job
        value: main
      - name: host
        value: 127.0.0.1
      - name: port
        value: "1"
      - name: retention
        value: "1"
YAML
stowage_env=(env -u PGPASSWORD -u PGHOST -u PGPORT -u STOWAGE_S3_PREFIX -u STOWAGE_SLACK_WEBHOOK_URL
  -u STOWAGE_PAGERDUTY_ROUTING_KEY -u AGE_RECIPIENTS -u AGE_PASSPHRASE_FILE -u AWS_PROFILE -u AWS_SESSION_TOKEN
  STOWAGE_REPOSITORY="$tmp/repo" STOWAGE_S3_BUCKET="$bucket" AWS_ENDPOINT_URL_S3="$s3_endpoint" AWS_REGION=us-east-1
  AWS_ACCESS_KEY_ID=stowage-test-access AWS_SECRET_ACCESS_KEY=stowage-test-secret
  STOWAGE_MANAGEMENT_PORT=0)
stowage() { (cd "$work" && exec "${stowage_env[@]}" "$tmp/bin/stowage" "$@"); }

# Unmeasured: the first run records the class-data archive beside the jar (bin/stowage), which later runs start from.
log "warm-up: stowage list main (records the class-data archive)"
stowage list main >"$tmp/logs/list.out" 2>"$tmp/logs/list.err" || { cat "$tmp/logs/list.err" >&2; die "stowage list failed"; }
listed_backups=$(grep -c "^[0-9]\{8\}T[0-9]\{6\}Z-F" "$tmp/logs/list.out" || true)
((listed_backups == backups)) || { cat "$tmp/logs/list.out" "$tmp/logs/list.err" >&2; die "stowage lists $listed_backups backups, not $backups"; }

# Which S3 calls (and how much of the server's time) fell between two moments: count, total ms, keys, slowest ms
calls_between() { # FROM_MS TO_MS OPERATION
  awk -v a="$1" -v b="$2" -v op="$3" '$1 >= a && $1 <= b && $2 == op {
      n++; ms += $3; if ($3 > max) max = $3
      for (i = 4; i <= NF; i++) if ($i ~ /^keys=/) { sub("keys=", "", $i); k += $i }
    } END { printf "%d %.0f %d %.0f\n", n, ms, k, max }' "$calls"
}
timed_expire() { # NAME
  local t0 t1 rc=0
  t0=$(now_ms)
  (cd "$work" && exec "${stowage_env[@]}" /usr/bin/time -v -o "$tmp/logs/$1.time" "$tmp/bin/stowage" expire main \
    --repository s3) >"$tmp/logs/$1.out" 2>"$tmp/logs/$1.err" || rc=$?
  t1=$(now_ms)
  echo "$t0 $t1 $rc"
}

log "timed: stowage expire main --repository s3"
read -r e1_start e1_end e1_rc < <(timed_expire expire1)
expire_s=$(secs "$e1_start" "$e1_end")
log "expired in $expire_s s (exit $e1_rc)"
((e1_rc == 0)) || { tail -n 20 "$tmp/logs/expire1.out" "$tmp/logs/expire1.err" >&2; die "stowage expire failed (exit $e1_rc)"; }
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/logs/expire1.time")
cpu_s=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$tmp/logs/expire1.time")
read -r list_n list_ms list_keys list_max < <(calls_between "$e1_start" "$e1_end" list)
read -r del_n del_ms del_keys del_max < <(calls_between "$e1_start" "$e1_end" deleteObjects)
read -r one_n one_ms _ _ < <(calls_between "$e1_start" "$e1_end" delete)
read -r get_n get_ms _ _ < <(calls_between "$e1_start" "$e1_end" get)
read -r head_n head_ms _ _ < <(calls_between "$e1_start" "$e1_end" head)
read -r put_n put_ms _ _ < <(calls_between "$e1_start" "$e1_end" put)
# The first run's timeline, from the call log (each line: end time, operation, ms taken): phases in ms from the start
read -r first_call wal_first wal_last wal_n wal_busy del_first del_last log_del_n log_del_keys log_del_busy log_del_max < <(
  awk -v a="$e1_start" -v b="$e1_end" '$1 >= a && $1 <= b {
      start = $1 - $3
      if (first == "") first = start
      if ($2 == "list" && $4 == "prefix=main/wal/") {
        if (wf == "") wf = start; wl = $1; wn++; wb += $3; last_page = $1
      }
      if ($2 == "deleteObjects" && wl != "" && start >= wl) {
        if (df == "") df = start; dl = $1; dn++; db += $3; if ($3 > dm) dm = $3
        for (i = 4; i <= NF; i++) if ($i ~ /^keys=/) { k = $i; sub("keys=", "", k); dk += k }
      }
    } END { printf "%d %d %d %d %.0f %d %d %d %d %.0f %.0f\n", first - a, wf - a, wl - a, wn, wb, df - a, dl - a, dn, dk, db, dm }' "$calls")
expire_summary=$(grep -iE "expired|expire" "$tmp/logs/expire1.out" | grep -v "^JOB" | grep -vE "^main +(local|s3) " | tail -n 5 || true)

log "checking what is left through the API"
bench list "$s3_endpoint" "$bucket" main/ "$tmp/keys/listed-after.txt" >"$tmp/logs/list-after.txt"
bench list "$s3_endpoint" "$bucket" "" "$tmp/keys/listed-all-after.txt" >/dev/null
left=$(wc -l <"$tmp/keys/listed-after.txt")
others=$(grep -vc '^main/' "$tmp/keys/listed-all-after.txt" || true)
if cmp -s "$tmp/keys/listed-after.txt" "$tmp/keys/keys-kept.txt"; then
  verdict="exactly the expected $objects_kept objects remain under main/"
else
  missing=$(comm -23 "$tmp/keys/keys-kept.txt" "$tmp/keys/listed-after.txt" | wc -l)
  extra=$(comm -13 "$tmp/keys/keys-kept.txt" "$tmp/keys/listed-after.txt" | wc -l)
  verdict="MISMATCH: $left objects under main/, $missing expected ones missing, $extra unexpected ones left"
  comm -3 "$tmp/keys/keys-kept.txt" "$tmp/keys/listed-after.txt" | head -n 20 >&2
fi
log "$verdict"

log "timed: the second stowage expire main --repository s3 (nothing to do)"
read -r e2_start e2_end e2_rc < <(timed_expire expire2)
expire2_s=$(secs "$e2_start" "$e2_end")
rss2_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/logs/expire2.time")
read -r list2_n list2_ms _ _ < <(calls_between "$e2_start" "$e2_end" list)
read -r del2_n _ del2_keys _ < <(calls_between "$e2_start" "$e2_end" deleteObjects)
log "second expire in $expire2_s s (exit $e2_rc)"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# The report
mkdir -p "$bench_dir/results"
name=$(date -u +%Y-%m-%d)-expire-$segments
out=$bench_dir/results/$name.md
n=2
while [[ -e $out ]]; do out=$bench_dir/results/$name-$n.md; n=$((n + 1)); done
cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
java_version=$(java -version 2>&1 | head -n 1)
deleted=$((objects_all - left))
ms_s() { awk -v m="$1" 'BEGIN { printf "%.1f", m / 1000 }'; }
{
  echo "# Expiry at S3 scale: $segments WAL segments"
  echo
  echo "\`$command_line\`"
  echo
  echo "- $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(cd "$root" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$root" && git diff --quiet HEAD -- src 2>/dev/null || echo ' (with uncommitted changes under src/)')."
  echo "- Machine: $(nproc) cores ($cpu), $mem, $java_version."
  echo "- Load average (1, 5, 15 min) before the run: $load_start; after: $load_end. $(awk -v l="${load_start%% *}" -v c="$(nproc)" 'BEGIN { if (l < 0.5) print "The machine was idle."; else if (l < c) print "The machine was not idle: other work was running."; else print "The machine was busy (load at or above its core count): other work was running, so the times are upper bounds." }')"
  echo "- S3: S3Proxy $(basename "$(tr ':' '\n' <"$tmp/cp/dependencies" | grep -m1 '/s3proxy-')" .jar | sed 's/^s3proxy-//'), filesystem store (FilesystemNio2BlobStore) on $(df -T "$tmp" | awk 'NR == 2 { print $2 }'), in its own JVM on the same machine, no faults."
  echo
  echo "## The archive"
  echo
  echo "One physical PostgreSQL job \`main\`: $segments WAL segments (16 MiB each when restored; stored as the ~500-byte zstd"
  echo "frame of an empty segment), each with its \`.sha256\` checksum file, timeline 1 then 2 (with \`00000002.history.zst\`),"
  echo "and $backups full backups (\`base.tar.zst\`, a \`.backup\` history file in the archive, a manifest with a three-segment WAL"
  echo "range), the newest $newest starting at $from_segment: $objects_all objects."
  if [[ $populate == files ]]; then
    echo "The backups, history files, the first segment and its checksum file went through the S3 API (PUTs with their"
    echo "SHA-256 header, $threads threads); the other $(sed -n 's/.* files=\([0-9]*\).*/\1/p' <<<"$populated") segments and checksum files were written straight into S3Proxy's store"
    echo "as S3Proxy stores what it is sent (the first ones' file mode and extended attributes, each with its own MD5 and"
    echo "SHA-256), and a sample read back through the API (body, ETag, SHA-256)."
  else
    echo "Every object went through the S3 API ($threads parallel PUTs, each with its SHA-256 header)."
  fi
  echo "A full listing through the API matched every key before anything was timed."
  echo
  if [[ $listing == index ]]; then
    echo "**Listing.** S3Proxy's filesystem store walks, stats and reads the extended attributes of every object under the"
    echo "prefix's directory for *every* page it serves, and then skips to the continuation token, so listing N objects"
    echo "costs O(N²). This run served flat listings from a sorted index instead (\`ListingIndexBlobStore\`: built by one"
    echo "walk on the first listing, kept up to date by every write and delete), so a listing costs O(N) as on S3. S3Proxy's"
    echo "own listing, probed on the same store before the expiry (5 pages from a fresh server): $probe."
    echo "At the mean after the first page, listing all of \`main/wal/\` ($(( (objects_all - 2 * backups + 999) / 1000 )) pages) would take about $(awk -v m="$(sed -n 's/.*mean_after_first_ms=\([0-9]*\).*/\1/p' <<<"$probe")" -v n="$(( (objects_all - 2 * backups + 999) / 1000 ))" 'BEGIN { printf "%.0f", m * n / 1000 }') s by itself."
  else
    echo "**Listing.** S3Proxy's own (every page walks the whole directory: O(N²) for N objects)."
  fi
  echo
  echo "| step | result |"
  echo "|---|---|"
  echo "| populate ($objects_all objects) | $populate_s s ($(awk -v n="$objects_all" -v s="$populate_s" 'BEGIN { printf "%.0f", n / s }') objects/s) |"
  echo "| listing of \`main/\` through the API, before (ExpireBench, 1,000 keys a page) | $list_before_s s: $listed_before |"
  echo
  echo "## \`stowage expire main --repository s3\` (retention 1)"
  echo
  echo "| | first run | second run (nothing to do) |"
  echo "|---|--:|--:|"
  echo "| wall time | **$expire_s s** | $expire2_s s |"
  echo "| exit status | $e1_rc | $e2_rc |"
  echo "| max RSS (JVM, /usr/bin/time -v) | $((rss_kb / 1024)) MiB | $((rss2_kb / 1024)) MiB |"
  echo "| CPU (user + sys) | $cpu_s s | $(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$tmp/logs/expire2.time") s |"
  echo "| ListObjectsV2 pages served (server time) | $list_n ($(ms_s "$list_ms") s) | $list2_n ($(ms_s "$list2_ms") s) |"
  echo "| DeleteObjects requests (keys; server time) | $del_n ($del_keys keys; $(ms_s "$del_ms") s, slowest $(ms_s "$del_max") s) | $del2_n ($del2_keys keys) |"
  echo "| DeleteObject / GetObject / HeadObject / PutObject | $one_n / $get_n / $head_n / $put_n | |"
  echo
  echo "Objects deleted: $deleted ($objects_all before, $left left under \`main/\`); $verdict."
  echo "Stowage also wrote $others audit object(s) outside \`main/\` (every repository receives each audit event)."
  echo
  echo "Where the first run's time went (ms from the start of \`bin/stowage\`; from the S3 server's call log, which has when"
  echo "each call ended and how long the store took over it):"
  echo
  echo "| phase | s | of which the S3 server's own time |"
  echo "|---|--:|--:|"
  echo "| JVM start, configuration, the local repository, to the first S3 call | $(ms_s "$first_call") | |"
  echo "| catalog of \`main\` in s3 (directory listings, $backups manifests read), $((backups - 1)) backups deleted | $(ms_s $((wal_first - first_call))) | |"
  echo "| listing \`main/wal/\`: $wal_n pages of up to 1,000 keys | $(ms_s $((wal_last - wal_first))) | $(ms_s "$wal_busy") |"
  echo "| from the last page to the first DeleteObjects of the log (planning: what is releasable) | $(ms_s $((del_first - wal_last))) | |"
  echo "| deleting the log: $log_del_n DeleteObjects requests, $log_del_keys keys | $(ms_s $((del_last - del_first))) | $(ms_s "$log_del_busy") (slowest request $(ms_s "$log_del_max")) |"
  echo "| from the last delete to exit (audit events, gauges, JVM exit) | $(ms_s $((e1_end - e1_start - del_last))) | |"
  echo
  echo "What \`expire\` printed (the table's rows left out):"
  echo
  echo '```'
  echo "$expire_summary"
  echo '```'
} >"$out"
cp "$calls" "$tmp/logs/s3-calls.log" 2>/dev/null || true
cat "$out"
log "report in $out"
