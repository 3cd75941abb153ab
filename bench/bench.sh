#!/usr/bin/env bash
# Switchboard benchmarks: one command per scenario.
#
#   bench/bench.sh SCENARIO [options]
#
# Scenarios: smoke, direct, idle, backlog, fanout, rooms, mqtt, compare, store-scale, and on a cluster (3 nodes
# on this machine sharing an embedded PostgreSQL): storm, cluster-idle, cluster-direct, cluster-fanout
# (see docs/benchmarks.md).
# store-scale fills a log store in-process (bench/store/StoreFill.java, --messages N for
# --fill-users users in commits of --fill-batch), starts the server on it and measures the start
# (process start to gateway listening), the heap after start and after a backlog drain (jcmd
# GC.heap_info after a GC), a backlog drain of --backlog-users x --backlog-messages new messages and a
# --find-max direct run (from --direct-rate, --direct-seconds per step, at most --direct-steps steps); it ends with one
# "store-scale ..." result line.
# The script builds what it needs (the server jar from the repository root, the bench jar from
# bench/), starts the server (or mosquitto) itself on loopback with a fresh data directory under
# /tmp, runs the load, stops what it started by PID and prints a result block. Every run is bounded:
# the generator stops itself (--timeout) and the script kills it past --hard-timeout.
#
# Options read by this script (the rest go to the load generator, listed below):
#   --sync FULL|NORMAL|OFF   inbox.synchronous of the server (default: the server's, FULL)
#   --instances N            gateway.instances of the server (default: the server's, half the cores)
#   --rounds N               compare: rounds of (Switchboard, mosquitto) runs (default 2);
#                            storm: runs, each on a fresh cluster (default 1);
#                            cluster-idle: rounds of (N-node cluster, 1-node cluster, 1 node) (default 2);
#                            cluster-direct, cluster-fanout: runs, each on a fresh cluster and database (default 1)
#   --nodes N                storm, cluster-idle, cluster-direct, cluster-fanout: nodes in the cluster (default 3)
#   --no-single              cluster-idle: leave out the plain single node on the default engine (log)
#   --engine postgres        direct: the single node (not clustered) on one embedded PostgreSQL, as cluster-direct
#                            starts it (--pg-fsync, --pg-stats apply; PostgreSQL's CPU counted), to compare with
#                            cluster-direct --nodes 1: what differs is the cluster's cost
#   --keys-aged              store-scale: the fill writes every message and key older than
#                            inbox.idempotencyWindowSeconds (its clock runs the window plus a minute
#                            behind), so the heap after start is the stored messages' alone
#   --cold                   store-scale: drop the page cache (sync; echo 3 > /proc/sys/vm/drop_caches,
#                            as root) between the fill and the start, so the start reads from the disk
#   --pg-fsync on|off        storm, cluster-idle, cluster-direct, cluster-fanout: PostgreSQL's fsync and synchronous_commit (default on)
#   --shards N               storm, cluster-idle, cluster-direct, cluster-fanout: PostgreSQL servers, each one shard of the inboxes
#                            (inbox.postgresUris; default 1, which uses inbox.postgresUri as before); cluster-direct
#                            then lists the sends of the run by the shards of sender and recipient
#   --pg-conf LIST           storm, cluster-idle, cluster-direct, cluster-fanout, direct --engine postgres: further
#                            PostgreSQL settings, name=value[,name=value...] (e.g. max_wal_size=4GB,wal_buffers=64MB;
#                            the servers run with wal_init_zero=off unless this says wal_init_zero=on)
#   --pg-stats               cluster-idle, cluster-direct, cluster-fanout: PostgreSQL loads pg_stat_statements, and after each run
#                            the time of each statement of its database (calls, ms executing and planning, per call)
#                            is printed per shard, most expensive first, then the server's WAL (records, full-page
#                            images, bytes) and checkpoints (timed, requested by WAL volume) since it started
#   --kill-shard-after S     cluster-direct with --shards: stop the last shard's PostgreSQL (fast shutdown) S seconds
#                            after the generator starts (connect and warm-up included), to show that only the
#                            sends touching it are refused
#   --webhook                backlog: the server posts offline notifications (webhook.url, a random webhook.secret,
#                            webhook.maxQueued raised to fit the load) to a receiver in the generator on a free
#                            loopback port, which checks each signature and counts the notifications before the drain
#   --hard-timeout S         kill the generator after S seconds (default 600)
#   --keep                   keep the data directory and logs under /tmp
#   --quiet-wait S           first wait up to S seconds (default 120) for the machine to be idle
#                            (< 15% busy), so other work does not skew the figures; 0 = don't wait
#                            (smoke does not wait)
# Runs take turns: a second bench.sh waits for the first (flock on /tmp/switchboard-bench.lock,
# up to LOCK_WAIT seconds, default 1200). Each run uses private copies of both jars, so rebuilding
# them meanwhile is safe.
# Environment:
#   SWITCHBOARD_JAR          use this server jar instead of building target/switchboard-fat.jar
#   SERVER_JAVA_OPTS         server JVM flags   (default: -Xms64m -Xmx2g; store-scale at 100M messages
#                            needs more for a build that keeps every message's index in the heap)
#   FILL_JAVA_OPTS           store-scale: the filling JVM's flags (default: -Xmx8g)
#   BENCH_JAVA_OPTS          generator JVM flags (default: -Xms1g -Xmx2g -XX:+UseG1GC)
#   SWITCHBOARD_<SECTION>_<KEY>  any other server setting (the server reads these, e.g.
#                            SWITCHBOARD_INBOX_BATCH_MAX_MESSAGES=500)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BENCH_JAR="$BENCH_DIR/target/switchboard-bench.jar"
SERVER_JAVA_OPTS=${SERVER_JAVA_OPTS:--Xms64m -Xmx2g}
BENCH_JAVA_OPTS=${BENCH_JAVA_OPTS:--Xms1g -Xmx2g -XX:+UseG1GC}

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  cat <<'EOF'
Examples:
  bench/bench.sh smoke
  bench/bench.sh direct --users 1000 --rate 5000 --duration 20
  bench/bench.sh direct --users 1000 --rate 2000 --find-max
  bench/bench.sh idle --connections 19000
  bench/bench.sh backlog --users 1000 --messages 1000
  bench/bench.sh backlog --users 1000 --messages 100 --webhook
  bench/bench.sh fanout --users 10000 --pushes 5
  bench/bench.sh fanout --users 10000 --rate 20 --recipients 1000 --duration 15
  bench/bench.sh rooms --rooms 1 --members 1000 --rate 20 --find-max
  bench/bench.sh rooms --rooms 100 --members 50 --rate 200 --find-max
  bench/bench.sh rooms --rooms 100 --members 50 --rate 100 --duration 20 --receipts
  bench/bench.sh rooms --rooms 100 --members 50 --rate 100 --duration 20 --receipts --read-every 0
  bench/bench.sh mqtt --users 1000 --rate 5000
  bench/bench.sh compare --users 1000 --rate 5000 --rounds 2
  bench/bench.sh storm --connections 6000 --rounds 2
  bench/bench.sh storm --connections 6000 --backoff-ms 0
  bench/bench.sh cluster-idle --connections 6000 --hold 5 --rounds 2
  bench/bench.sh cluster-direct --nodes 3 --users 1000 --rate 3000 --duration 20
  bench/bench.sh cluster-direct --nodes 1 --users 1000 --rate 2000 --find-max
  bench/bench.sh direct --engine postgres --users 1000 --rate 2000 --find-max
  bench/bench.sh cluster-fanout --nodes 3 --users 1000 --recipients 100 --rate 20 --duration 20
  bench/bench.sh cluster-fanout --nodes 3 --users 1000 --recipients 100 --rate 10 --find-max
  bench/bench.sh cluster-fanout --nodes 3 --users 1000 --recipients 100 --rate 10 --find-max --push-via all
  bench/bench.sh store-scale --messages 10000000
  SWITCHBOARD_JAR=/path/to/old/switchboard-fat.jar bench/bench.sh store-scale --messages 10000000
  bench/bench.sh store-scale --messages 100000000 --keys-aged --cold --direct-steps 2
  bench/bench.sh cluster-direct --nodes 2 --shards 2 --users 1000 --rate 2000 --find-max
  bench/bench.sh cluster-direct --nodes 2 --users 200 --rate 200 --duration 20 --pg-stats
  bench/bench.sh cluster-direct --nodes 2 --shards 2 --users 1000 --rate 1000 --duration 20 --kill-shard-after 40

Load generator options:
EOF
  if [[ -f "$BENCH_JAR" ]]; then
    java -jar "$BENCH_JAR" help 2>&1 | tail -n +2
  else
    echo "  (listed by java -jar bench/target/switchboard-bench.jar help once bench/ is built)"
  fi
}

SCENARIO=${1:-}
if [[ -z "$SCENARIO" || "$SCENARIO" == help || "$SCENARIO" == --help || "$SCENARIO" == -h ]]; then
  usage
  [[ -n "$SCENARIO" ]] && exit 0 || exit 2
fi
shift

# ---- options: take the script's own, pass the rest on -------------------------------------------
FILL_JAVA_OPTS=${FILL_JAVA_OPTS:--Xmx8g}
SYNC="" INSTANCES="" ROUNDS="" HARD=600 KEEP=0 QUIET=120 NODES=3 SINGLE=1 PG_FSYNC=on PG_CONF="" PG_STATS=0 SHARDS=1 KILL_SHARD= ENGINE=""
KEYS_AGED=0 COLD=0 WEBHOOK=0
[[ "$SCENARIO" == smoke ]] && QUIET=0 # a correctness check: no need to wait for a quiet machine
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sync) SYNC=$2; shift 2 ;;
    --instances) INSTANCES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --no-single) SINGLE=0; shift ;;
    --engine) ENGINE=$2; shift 2 ;;
    --keys-aged) KEYS_AGED=1; shift ;;
    --cold) COLD=1; shift ;;
    --pg-fsync) PG_FSYNC=$2; shift 2 ;;
    --pg-stats) PG_STATS=1; shift ;;
    --pg-conf) PG_CONF=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --kill-shard-after) KILL_SHARD=$2; shift 2 ;;
    --webhook) WEBHOOK=1; shift ;;
    --hard-timeout) HARD=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --quiet-wait) QUIET=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

# value of a pass-through option (for server settings that must match the load), or a default
opt() {
  local name=$1 def=$2 i
  for ((i = 0; i < ${#ARGS[@]}; i++)); do
    if [[ "${ARGS[$i]}" == "--$name" && $((i + 1)) -lt ${#ARGS[@]} ]]; then
      echo "${ARGS[$((i + 1))]}"
      return
    elif [[ "${ARGS[$i]}" == --$name=* ]]; then
      echo "${ARGS[$i]#*=}"
      return
    fi
  done
  echo "$def"
}
# whether a bare pass-through flag was given
has_opt() { local a; for a in "${ARGS[@]}"; do [[ "$a" == "--$1" ]] && return 0; done; return 1; }
# 10k -> 10000
num() { local v=${1,,}; case "$v" in *k) echo $(( ${v%k} * 1000 )) ;; *m) echo $(( ${v%m} * 1000000 )) ;; *) echo "$v" ;; esac; }

log() { echo "[bench] $*" >&2; }
die() { log "error: $*"; exit 2; }

# ---- build -----------------------------------------------------------------------------------
newer_than() { # newer_than FILE PATH... : true if any PATH has a file newer than FILE (or FILE is missing)
  local f=$1; shift
  [[ ! -f "$f" ]] && return 0
  [[ -n "$(find "$@" -newer "$f" -type f -print -quit 2>/dev/null)" ]]
}

build() {
  if [[ -n "${SWITCHBOARD_JAR:-}" ]]; then
    SERVER_JAR=$SWITCHBOARD_JAR
    [[ -f "$SERVER_JAR" ]] || die "SWITCHBOARD_JAR=$SERVER_JAR does not exist"
  else
    SERVER_JAR="$ROOT/target/switchboard-fat.jar"
    if newer_than "$SERVER_JAR" "$ROOT/pom.xml" "$ROOT/src/main" "$ROOT/conf" "$ROOT/webroot"; then
      log "building the server: mvn -q -DskipTests package (in $ROOT)"
      (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
    fi
  fi
  if newer_than "$BENCH_JAR" "$BENCH_DIR/pom.xml" "$BENCH_DIR/src"; then
    log "building the load generator: mvn -q package (in $BENCH_DIR)"
    (cd "$BENCH_DIR" && mvn -q -B -DskipTests package) >&2
  fi
}

# ---- processes we start (and only those are stopped) -------------------------------------------
SERVER_PID="" MQ_PID="" WORK_DIRS=() SB_INBOX="" SB_PG_ARGS=() SB_EXTRA_CONF="" WEBHOOK_PORT="" WEBHOOK_ARGS=()
PG_JVM_PIDS=() PG_POSTMASTERS=() PG_PORTS=() NODE_PIDS=() NODE_WS=() NODE_PUSH=() NODE_WORK=()

stop_pid() { # stop_pid PID NAME: SIGTERM, wait up to 15 s, then SIGKILL
  local pid=$1 name=$2 i
  [[ -z "$pid" ]] && return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not stop within 15 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$SERVER_PID" server
  SERVER_PID=""
  local i
  for ((i = 0; i < ${#NODE_PIDS[@]}; i++)); do stop_pid "${NODE_PIDS[$i]}" "node $((i + 1))"; done
  NODE_PIDS=()
  stop_pg
  stop_pid "$MQ_PID" mosquitto
  MQ_PID=""
  if [[ $KEEP == 0 ]]; then
    for d in "${WORK_DIRS[@]}"; do rm -rf "$d"; done
  elif [[ ${#WORK_DIRS[@]} -gt 0 ]]; then
    log "kept: ${WORK_DIRS[*]}"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 30000))
    [[ "$p" == "${WEBHOOK_PORT:-}" ]] && continue # taken by the generator's receiver once it runs
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free port found"
}

# Raise the open-file limit as far as allowed (both the server and the generator inherit it).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The server runs with its defaults except: loopback ports, a fresh data dir, limits.maxRecipients and
# inbox.maxMessagesPerUser raised to fit the load, and the abuse limits that would refuse a load
# generator (connections per client address, sends per second per connection) out of the way.
# SB_EXTRA_CONF adds whole sections (backlog --webhook: the webhook section).
server_conf() { # server_conf WS_PORT PUSH_PORT DATA_DIR MAX_RECIPIENTS MAX_MESSAGES_PER_USER [EXTRA_INBOX_JSON]
  local ws=$1 push=$2 data=$3 max_rcpt=$4 max_msgs=$5 extra_inbox=${6:-} extra_gw=""
  [[ -n "$INSTANCES" ]] && extra_gw=",\"instances\":$INSTANCES"
  [[ -n "$SYNC" ]] && extra_inbox+=",\"synchronous\":\"$SYNC\""
  local max_req=$((max_rcpt * 16 + 1048576))
  echo "{\"gateway\":{\"host\":\"127.0.0.1\",\"port\":$ws$extra_gw},\"push\":{\"host\":\"127.0.0.1\",\"port\":$push,\"maxRequestBytes\":$max_req},\"inbox\":{\"dataDir\":\"$data\",\"maxMessagesPerUser\":$max_msgs$extra_inbox},\"limits\":{\"maxRecipients\":$max_rcpt,\"maxConnectionsPerIp\":1000000,\"messagesPerSecond\":1000000,\"messageBurst\":1000000}${SB_EXTRA_CONF:-}}"
}

two_free_ports() { # sets P1 and P2 to two distinct free ports
  P1=$(free_port)
  P2=$(free_port)
  while [[ "$P2" == "$P1" ]]; do P2=$(free_port); done
}

launch() { # launch WORK [JVM_ARGS...] -- [APP_ARGS...]: java -jar SERVER_JAR -conf WORK/server-conf.json; sets LAUNCHED
  local work=$1 jvm=() app=()
  shift
  while [[ $# -gt 0 && "$1" != -- ]]; do jvm+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  app=("$@")
  # shellcheck disable=SC2086
  (cd "$work" && exec java $SERVER_JAVA_OPTS "${jvm[@]}" -jar "$SERVER_JAR" -conf "$work/server-conf.json" "${app[@]}") \
    > "$work/server.log" 2>&1 &
  LAUNCHED=$!
}

wait_listening() { # wait_listening PID WORK NAME [SECONDS]: until the gateway and the push API listen (default 60 s)
  local pid=$1 work=$2 name=$3 limit=${4:-60} i
  for ((i = 0; i < limit * 10; i++)); do
    if grep -q "gateway listening on" "$work/server.log" 2>/dev/null && grep -q "push API listening on" "$work/server.log" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { tail -30 "$work/server.log" >&2; die "$name exited during start-up"; }
    sleep 0.1
  done
  tail -30 "$work/server.log" >&2
  die "$name did not start within $limit s"
}

start_server() { # start_server MAX_RECIPIENTS MAX_MESSAGES_PER_USER [EXTRA_INBOX_JSON]
  local conf
  WORK=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
  WORK_DIRS+=("$WORK")
  two_free_ports
  WS_PORT=$P1 PUSH_PORT=$P2
  conf=$(server_conf "$WS_PORT" "$PUSH_PORT" "$WORK/data" "$1" "$2" "${3:-}")
  echo "$conf" > "$WORK/server-conf.json"
  launch "$WORK"
  SERVER_PID=$LAUNCHED
  wait_listening "$SERVER_PID" "$WORK" "the server"
  log "server pid $SERVER_PID: ws 127.0.0.1:$WS_PORT, push 127.0.0.1:$PUSH_PORT, data $WORK/data"
  log "server conf: $conf"
}

log_warnings() { # log_warnings LOG NAME: count and show the WARN/ERROR lines of a server log
  local warns
  # (the insecure-mode warning is expected: the benchmark connects with ?user=)
  # (and so is Hazelcast's note that its CP subsystem is off: the cluster does not use it)
  local expected="INSECURE MODE|CP Subsystem is not enabled"
  warns=$(grep -E " (WARN|ERROR) " "$1" 2>/dev/null | grep -c -v -E "$expected" || true)
  log "$2 log has ${warns:-0} WARN/ERROR lines ($1)"
  if [[ "${warns:-0}" != 0 ]]; then
    grep -E " (WARN|ERROR) " "$1" | grep -v -E "$expected" | cut -c14- | sort | uniq -c | sort -rn | head -"${3:-5}" >&2 || true
  fi
}

stop_server() {
  local size="?"
  stop_pid "$SERVER_PID" server
  SERVER_PID=""
  [[ -d "$WORK/data" ]] && size=$(du -sh "$WORK/data" 2>/dev/null | cut -f1)
  log "server stopped; data dir was $size"
  log_warnings "$WORK/server.log" server
}

# ---- the cluster scenarios: PostgreSQL and N nodes -------------------------------------------------
start_pg() { # start_pg DATABASES: one embedded PostgreSQL per shard (bench jar), each on a free loopback port, databases switchboard_1..N
  local s
  for ((s = 0; s < SHARDS; s++)); do start_one_pg "$1" "$s"; done
}

start_one_pg() { # start_one_pg DATABASES SHARD
  local work jvm i line="" port postmaster stats=()
  [[ $PG_STATS == 1 ]] && stats=(--stat-statements)
  work=$(mktemp -d /tmp/switchboard-bench-pg$2.XXXXXX)
  WORK_DIRS+=("$work")
  java -Xms32m -Xmx256m -cp "$BENCH_JAR" dev.switchboard.bench.PostgresMain --dir "$work" --databases "$1" \
    --fsync "$PG_FSYNC" --conf "$PG_CONF" "${stats[@]}" > "$work/postgres.log" 2>&1 &
  jvm=$!
  PG_JVM_PIDS+=("$jvm")
  for ((i = 0; i < 1200; i++)); do
    line=$(grep -m1 "^postgres ready" "$work/postgres.log" 2>/dev/null || true)
    [[ -n "$line" ]] && break
    kill -0 "$jvm" 2>/dev/null || { cat "$work/postgres.log" >&2; die "PostgreSQL did not start"; }
    sleep 0.1
  done
  [[ -n "$line" ]] || { cat "$work/postgres.log" >&2; die "PostgreSQL did not start within 120 s"; }
  port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<< "$line")
  postmaster=$(sed -E 's/.*postmaster=([0-9]+).*/\1/' <<< "$line")
  PG_PORTS+=("$port") PG_POSTMASTERS+=("$postmaster")
  log "PostgreSQL shard $2 (embedded, fsync $PG_FSYNC${PG_CONF:+, $PG_CONF}) on 127.0.0.1:$port, postmaster pid $postmaster (via JVM pid $jvm), data $work"
}

pg_stats() { # pg_stats DATABASE: with --pg-stats, what each statement of the run's database cost, per shard
  local s
  [[ $PG_STATS == 1 ]] || return 0
  for ((s = 0; s < ${#PG_PORTS[@]}; s++)); do
    echo "shard $s:"
    java -cp "$BENCH_JAR" dev.switchboard.bench.PgStatements --port "${PG_PORTS[$s]}" --database "switchboard_$1" \
      || log "reading pg_stat_statements of shard $s failed"
  done
}

stop_pg() {
  local i s pm
  for ((s = 0; s < ${#PG_JVM_PIDS[@]}; s++)); do
    stop_pid "${PG_JVM_PIDS[$s]}" "PostgreSQL launcher $s"
    # The launcher stops the postmaster on SIGTERM; if it died first, stop the postmaster by its PID.
    pm=${PG_POSTMASTERS[$s]:-}
    if [[ -n "$pm" ]] && kill -0 "$pm" 2>/dev/null; then
      kill -TERM "$pm" 2>/dev/null || true
      for ((i = 0; i < 150; i++)); do
        kill -0 "$pm" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pm" 2>/dev/null && kill -KILL "$pm" 2>/dev/null
    fi
  done
  PG_JVM_PIDS=() PG_POSTMASTERS=() PG_PORTS=()
}

pg_setting() { # pg_setting DATABASE: the inbox keys naming the database (one per shard)
  local s list=""
  if [[ $SHARDS == 1 ]]; then
    echo "\"postgresUri\":\"postgresql://postgres@127.0.0.1:${PG_PORTS[0]}/switchboard_$1\""
    return
  fi
  for ((s = 0; s < SHARDS; s++)); do
    list+="${list:+,}\"postgresql://postgres@127.0.0.1:${PG_PORTS[$s]}/switchboard_$1\""
  done
  echo "\"postgresUris\":[$list]"
}

ports_free() { # ports_free FIRST COUNT
  local p
  for ((p = $1; p < $1 + $2; p++)); do port_free "$p" || return 1; done
}

start_cluster() { # start_cluster NODES DATABASE MAX_RECIPIENTS MAX_MESSAGES_PER_USER
  local nodes=$1 db=$2 rcpt=$3 msgs=$4 base i tries members="" name conf work pg
  for ((tries = 0; tries < 50; tries++)); do
    base=$((20000 + RANDOM % 30000))
    ports_free "$base" $((nodes + 2)) && break
  done
  for ((i = 0; i < nodes + 2; i++)); do members+="${members:+,}127.0.0.1:$((base + i))"; done
  # a name of its own: nodes of another run (or of ClusterIT) on this machine never join this cluster
  name="bench-$base-$$"
  pg=$(pg_setting "$db")
  NODE_PIDS=() NODE_WS=() NODE_PUSH=() NODE_WORK=()
  for ((i = 0; i < nodes; i++)); do
    work=$(mktemp -d /tmp/switchboard-bench-node$((i + 1)).XXXXXX)
    WORK_DIRS+=("$work")
    two_free_ports
    while [[ " ${NODE_WS[*]} ${NODE_PUSH[*]} " == *" $P1 "* || " ${NODE_WS[*]} ${NODE_PUSH[*]} " == *" $P2 "* ]]; do two_free_ports; done
    conf=$(server_conf "$P1" "$P2" "$work/data" "$rcpt" "$msgs" ",\"engine\":\"postgres\",$pg")
    echo "$conf" > "$work/server-conf.json"
    launch "$work" "-Dswitchboard.cluster.name=$name" "-Dswitchboard.cluster.port=$((base + i))" \
      "-Dswitchboard.cluster.members=$members" "-Dswitchboard.cluster.interface=127.0.0.1" -- -cluster
    NODE_PIDS+=("$LAUNCHED") NODE_WS+=("$P1") NODE_PUSH+=("$P2") NODE_WORK+=("$work")
    # storm kills a node: no "Killed" job notice from this shell for it (stop_pid still stops it by PID)
    disown "$LAUNCHED"
    # the first node forms the cluster alone; the others then join it (started together they may
    # form separate clusters that only merge minutes later)
    [[ $i == 0 ]] && wait_listening "${NODE_PIDS[0]}" "$work" "node 1"
  done
  for ((i = 1; i < nodes; i++)); do wait_listening "${NODE_PIDS[$i]}" "${NODE_WORK[$i]}" "node $((i + 1))"; done
  for ((i = 0; i < nodes; i++)); do
    local ok=0 t
    for ((t = 0; t < 300; t++)); do
      if curl -sf -m 5 "http://127.0.0.1:${NODE_PUSH[$i]}/health" > /dev/null 2>&1; then ok=1; break; fi
      sleep 0.2
    done
    [[ $ok == 1 ]] || { tail -30 "${NODE_WORK[$i]}/server.log" >&2; die "node $((i + 1)) is not healthy (/health) after 60 s"; }
    log "node $((i + 1)) pid ${NODE_PIDS[$i]}: ws 127.0.0.1:${NODE_WS[$i]}, push 127.0.0.1:${NODE_PUSH[$i]}, hazelcast 127.0.0.1:$((base + i))+, healthy"
  done
  log "cluster $name: $nodes node(s), inbox $pg; node conf: $(sed -E 's/"port":[0-9]+/"port":P/g' "${NODE_WORK[0]}/server-conf.json")"
}

stop_cluster() {
  local i
  for ((i = 0; i < ${#NODE_PIDS[@]}; i++)); do
    stop_pid "${NODE_PIDS[$i]}" "node $((i + 1))"
  done
  for ((i = 0; i < ${#NODE_PIDS[@]}; i++)); do
    log_warnings "${NODE_WORK[$i]}/server.log" "node $((i + 1))"
  done
  NODE_PIDS=()
}

cluster_args() { # the generator's options naming the nodes
  local IFS=,
  echo "--ws-ports ${NODE_WS[*]} --push-ports ${NODE_PUSH[*]} --server-pids ${NODE_PIDS[*]} --pg-pid ${PG_POSTMASTERS[*]}"
}

on_fresh_clusters() { # on_fresh_clusters NAME MAX_RECIPIENTS ROUND_FUNCTION: each round's function runs on a fresh cluster and database
  local name=$1 rcpt=$2 round=$3 r
  start_pg "$ROUNDS"
  for ((r = 1; r <= ROUNDS; r++)); do
    [[ $ROUNDS -gt 1 ]] && log "$name round $r of $ROUNDS"
    start_cluster "$NODES" "$r" "$rcpt" "$MAXMSGS"
    "$round" "$r"
    stop_cluster
  done
  stop_pg
}

storm_round() { # storm_round ROUND
  # shellcheck disable=SC2046
  run_bench storm "${ARGS[@]}" $(cluster_args) --label "round $1" || rc=$?
}

cluster_direct_round() { # cluster_direct_round ROUND
  # direct messages across nodes: user i connects to node i mod N and sends to user i+1, on the
  # next node (with one node, to itself); CPU counts every node and PostgreSQL with its backends
  KILLER="" WAITED_QUIET=""
  if [[ -n "$KILL_SHARD" ]]; then
    # the timer runs from the generator's start: wait for a quiet machine first, not meanwhile
    wait_quiet
    WAITED_QUIET=1
    [[ $SHARDS -gt 1 ]] || die "--kill-shard-after needs --shards 2 or more"
    (sleep "$KILL_SHARD" && log "stopping shard $((SHARDS - 1)) (postmaster ${PG_POSTMASTERS[$((SHARDS - 1))]})" \
      && kill -INT "${PG_POSTMASTERS[$((SHARDS - 1))]}") &
    KILLER=$!
  fi
  # shellcheck disable=SC2046
  run_bench direct "${ARGS[@]}" $(cluster_args) --shards "$SHARDS" \
    --label "$NODES-node cluster, $SHARDS PostgreSQL shard(s), round $1" || rc=$?
  [[ -n "$KILLER" ]] && { kill "$KILLER" 2>/dev/null || true; wait "$KILLER" 2>/dev/null || true; }
  WAITED_QUIET=""
  pg_stats "$1"
}

cluster_fanout_round() { # cluster_fanout_round ROUND
  # pushes over the push API of node 1 (or of every node: --push-via all), each to many users spread
  # over the nodes (user i on node i mod N); CPU counts every node and PostgreSQL with its backends
  # shellcheck disable=SC2046
  run_bench cluster-fanout "${ARGS[@]}" $(cluster_args) \
    --label "$NODES-node cluster, $SHARDS PostgreSQL shard(s), round $1" || rc=$?
  pg_stats "$1"
}

start_mosquitto() {
  command -v mosquitto >/dev/null || command -v /usr/sbin/mosquitto >/dev/null || {
    log "mosquitto is not installed; installing it: apt-get install -y mosquitto"
    if [[ $(id -u) == 0 ]]; then
      (apt-get install -y -qq mosquitto || { apt-get update -qq && apt-get install -y -qq mosquitto; }) >&2
    else
      die "install mosquitto first (apt-get install -y mosquitto)"
    fi
  }
  local bin
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  MQ_WORK=$(mktemp -d /tmp/mosquitto-bench.XXXXXX)
  WORK_DIRS+=("$MQ_WORK")
  MQTT_PORT=$(free_port)
  cat > "$MQ_WORK/mosquitto.conf" <<EOF
# written by bench/bench.sh: loopback only, persistent sessions kept on disk
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $MQ_WORK/
persistence_file mosquitto.db
max_queued_messages 10000
max_inflight_messages 100
# Nagle off, as Vert.x (Switchboard) has it by default: otherwise delayed ACKs add ~40 ms spikes
set_tcp_nodelay true
log_dest file $MQ_WORK/mosquitto.log
log_type error
log_type warning
EOF
  # as root mosquitto drops to the 'mosquitto' user, which must be able to write its data
  if [[ $(id -u) == 0 ]] && id mosquitto >/dev/null 2>&1; then chown mosquitto "$MQ_WORK"; fi
  "$bin" -c "$MQ_WORK/mosquitto.conf" > "$MQ_WORK/stdout.log" 2>&1 &
  MQ_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    port_free "$MQTT_PORT" || break
    kill -0 "$MQ_PID" 2>/dev/null || { cat "$MQ_WORK"/*.log >&2; die "mosquitto exited during start-up"; }
    sleep 0.1
  done
  log "mosquitto $("$bin" -h 2>/dev/null | head -1 | awk '{print $3}') pid $MQ_PID on 127.0.0.1:$MQTT_PORT (persistence in $MQ_WORK)"
}

stop_mosquitto() {
  stop_pid "$MQ_PID" mosquitto
  MQ_PID=""
}

# percent of all cores busy over one second (from /proc/stat)
busy_pct() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
  local idle=$(( (b[4]+b[5]) - (a[4]+a[5]) ))
  echo $(( 100 * busy / (busy + idle + 1) ))
}

wait_quiet() { # the figures are only worth something when nothing else runs on the 2 cores
  [[ "$QUIET" == 0 ]] && return 0
  local waited=0 p
  while true; do
    p=$(busy_pct)
    [[ $p -lt 15 ]] && break
    if [[ $waited -ge $QUIET ]]; then
      log "WARNING: the machine is still ${p}% busy with other work after ${QUIET} s; measuring anyway (figures will be skewed)"
      return 0
    fi
    [[ $waited == 0 ]] && log "machine ${p}% busy with other work; waiting up to ${QUIET} s for it to go quiet"
    waited=$((waited + 1))
  done
  [[ $waited -gt 0 ]] && log "machine quiet after ${waited} s"
  return 0
}

# ---- running the generator ---------------------------------------------------------------------
run_bench() { # run_bench SCENARIO ARGS...
  local rc=0
  [[ -n "${WAITED_QUIET:-}" ]] || wait_quiet
  # shellcheck disable=SC2086
  timeout -k 10 "$HARD" java $BENCH_JAVA_OPTS -jar "$BENCH_JAR" "$@" --timeout $((HARD - 10)) || rc=$?
  [[ $rc == 124 || $rc == 137 ]] && log "the generator was killed after --hard-timeout $HARD s"
  return $rc
}

header() {
  local commit dirty="" repo=$ROOT
  # a jar given by SWITCHBOARD_JAR is described by the checkout it was built in (JAR's ../..)
  [[ -n "${SWITCHBOARD_JAR:-}" ]] && repo=$(cd "$(dirname "$SERVER_JAR_ORIG")/.." && pwd)
  commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no -- src pom.xml conf 2>/dev/null)" ]] && dirty="+uncommitted changes"
  echo "# switchboard-bench $SCENARIO | $(date -u +%Y-%m-%dT%H:%M:%SZ) | server commit $commit$dirty | $(nproc) cores"
  echo "# server jar: $SERVER_JAR_ORIG | server JVM: $SERVER_JAVA_OPTS | generator JVM: $BENCH_JAVA_OPTS | $(java -version 2>&1 | head -1)"
  echo "# args: ${ARGS[*]:-}"
  if [[ $SCENARIO == storm || $SCENARIO == cluster-idle || $SCENARIO == cluster-direct || $SCENARIO == cluster-fanout ]]; then
    echo "# cluster: $NODES nodes on this machine (Hazelcast on loopback), inbox on $SHARDS embedded PostgreSQL 17.6 server(s), one shard each (fsync $PG_FSYNC${PG_CONF:+, $PG_CONF}); rounds $ROUNDS"
  fi
}

sb_run() { # sb_run MAX_RECIPIENTS MAX_MSGS JAR_SCENARIO ARGS...
  local rcpt=$1 msgs=$2 rc=0
  shift 2
  start_server "$rcpt" "$msgs" "${SB_INBOX:-}"
  run_bench "$@" --ws-port "$WS_PORT" --push-port "$PUSH_PORT" --server-pid "$SERVER_PID" "${SB_PG_ARGS[@]}" || rc=$?
  stop_server
  return $rc
}

mq_run() {
  local rc=0
  start_mosquitto
  run_bench mqtt "$@" --mqtt-port "$MQTT_PORT" --server-pid "$MQ_PID" || rc=$?
  stop_mosquitto
  return $rc
}

webhook_on() { # webhook_on NOTIFICATIONS: the next server posts offline notifications to the generator's receiver
  # the receiver is the generator's: the server is told where it will listen, and with which secret;
  # webhook.maxQueued fits the run's notifications, so none is skipped as queue_full
  local queue=$(( $1 > 100000 ? $1 : 100000 )) secret
  WEBHOOK_PORT=$(free_port)
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  SB_EXTRA_CONF=",\"webhook\":{\"url\":\"http://127.0.0.1:$WEBHOOK_PORT/notify\",\"secret\":\"$secret\",\"maxQueued\":$queue}"
  WEBHOOK_ARGS=(--webhook-port "$WEBHOOK_PORT" --webhook-secret "$secret")
  log "webhook: the server posts offline notifications to the generator on 127.0.0.1:$WEBHOOK_PORT (webhook.maxQueued $queue)"
}

webhook_off() {
  SB_EXTRA_CONF="" WEBHOOK_PORT="" WEBHOOK_ARGS=()
}

# server-side limits that must fit the load
USERS=$(num "$(opt users 1000)")
RCPT=$((USERS > 1000 ? USERS : 1000))
MSGS=$(num "$(opt messages 0)")
MAXMSGS=$((MSGS > 10000 ? MSGS : 10000))

# rooms: every member of every room is an online user
ROOM_USERS=$(( $(num "$(opt rooms 1)") * $(num "$(opt members 1000)") ))
ROOM_RCPT=$((ROOM_USERS > 1000 ? ROOM_USERS : 1000))
# rooms --receipts: a sender's inbox stores a delivered receipt per member per message, and every member
# a read receipt per read of the others, all counted by inbox.maxMessagesPerUser
ROOM_MSGS=$MAXMSGS
has_opt receipts && ROOM_MSGS=10000000

CONNS=$(num "$(opt connections 6000)")
CL_RCPT=$((CONNS > 1000 ? CONNS : 1000))

[[ $WEBHOOK == 1 && $SCENARIO != backlog ]] && die "--webhook applies to backlog only"
case "$SCENARIO" in
  smoke|idle|backlog|fanout|rooms|mqtt|compare) ;;
  direct)
    [[ -z "$ENGINE" || "$ENGINE" == postgres ]] || die "direct: --engine wants postgres (the default is the server's)"
    ;;
  store-scale)
    [[ -z "$ENGINE" ]] || die "store-scale: --engine does not apply (it fills and starts the log engine)"
    [[ $COLD == 0 || -w /proc/sys/vm/drop_caches ]] || die "--cold drops the page cache: run as root (/proc/sys/vm/drop_caches is not writable)"
    ;;
  storm|cluster-idle|cluster-direct|cluster-fanout)
    [[ "$NODES" =~ ^[0-9]+$ && $NODES -ge 1 ]] || die "--nodes wants a whole number >= 1"
    [[ $SCENARIO == storm && $NODES -lt 2 ]] && die "storm needs --nodes 2 or more"
    ;;
  *) usage; die "unknown scenario: $SCENARIO" ;;
esac
if [[ -z "$ROUNDS" ]]; then
  case "$SCENARIO" in storm|cluster-direct|cluster-fanout) ROUNDS=1 ;; *) ROUNDS=2 ;; esac
fi

# One benchmark at a time on this machine: two loads on 2 cores would only measure each other.
heap_used_mib() { # heap_used_mib PID: the server's used heap after a full GC, in MiB (jcmd)
  jcmd "$1" GC.run > /dev/null 2>&1 || { echo "?"; return; }
  jcmd "$1" GC.heap_info 2>/dev/null | grep -m1 -oE 'used [0-9]+K' | awk '{ printf "%d", $2 / 1024 }' || echo "?"
}

json_field() { # json_field FILE NAME: a number from the last result line saved with --json
  tail -1 "$1" 2>/dev/null | grep -oE "\"$2\":[0-9.]+" | head -1 | cut -d: -f2
}

store_scale() { # fill a store, start the server on it, measure start, heap, drain and max rate
  local total fill_users fill_batch bl_users bl_msgs direct_secs extra conf fill t0 start_ms heap_start heap_drained
  local open_line data_size results direct_steps direct_rate rc=0 need_kb free_kb body_bytes fill_flags=()
  total=$(num "$(opt messages 200000)")
  fill_users=$(num "$(opt fill-users 100000)")
  fill_batch=$(num "$(opt fill-batch 5000)")
  bl_users=$(num "$(opt backlog-users 1000)")
  bl_msgs=$(num "$(opt backlog-messages 100)")
  direct_secs=$(opt direct-seconds 8)
  direct_steps=$(opt direct-steps 10)
  direct_rate=$(num "$(opt direct-rate 2000)")
  WORK=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
  WORK_DIRS+=("$WORK")
  # About 230 bytes of log and index per stored message of 100-byte body, plus a tenth to spare:
  # refuse before a fill that would fill the disk hours in.
  body_bytes=100
  need_kb=$(( total * (body_bytes + 130) * 11 / 10 / 1024 ))
  free_kb=$(df -Pk "$WORK" | awk 'NR == 2 { print $4 }')
  if (( free_kb < need_kb )); then
    die "store-scale with $total messages needs about $((need_kb / 1048576 + 1)) GiB free under $WORK;" \
      "only $((free_kb / 1048576)) GiB are (the data directory is made under /tmp)"
  fi
  log "disk: about $((need_kb / 1048576 + 1)) GiB needed, $((free_kb / 1048576)) GiB free under $WORK"
  results="$WORK/results.jsonl"
  two_free_ports
  WS_PORT=$P1 PUSH_PORT=$P2
  # Named, not left to the default: an older jar (SWITCHBOARD_JAR) may default to another engine.
  extra=",\"engine\":\"log\""
  (( KEYS_AGED )) && fill_flags+=(--keys-aged)
  conf=$(server_conf "$WS_PORT" "$PUSH_PORT" "$WORK/data" "$RCPT" "$((total > 10000 ? total : 10000))" "$extra")
  echo "$conf" > "$WORK/server-conf.json"
  wait_quiet
  log "filling the log store with $total messages for $fill_users users (commits of $fill_batch): $WORK/data"
  # (in WORK: the defaults are the jar's conf/config.json, not the working tree's)
  # shellcheck disable=SC2086
  fill=$(cd "$WORK" && java $FILL_JAVA_OPTS -cp "$SERVER_JAR" "$BENCH_DIR/store/StoreFill.java" "$WORK/server-conf.json" \
    "$total" "$fill_users" "$fill_batch" "$body_bytes" "${fill_flags[@]}" | tail -1) || die "filling the store failed"
  log "$fill"
  sync
  if (( COLD )); then
    # The start then reads what it needs from the disk, as after a reboot, not from what the fill left cached.
    echo 3 > /proc/sys/vm/drop_caches || die "could not drop the page cache"
    log "page cache dropped: a cold start"
  fi
  data_size=$(du -sh "$WORK/data" | cut -f1)
  t0=$(date +%s%N)
  launch "$WORK"
  SERVER_PID=$LAUNCHED
  wait_listening "$SERVER_PID" "$WORK" "the server" "${HARD}"
  start_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  open_line=$(grep -m1 -oE "inbox log open at .*" "$WORK/server.log" | cut -c1-200 || true)
  log "server pid $SERVER_PID listening $start_ms ms after its process started (data $data_size); ${open_line:-}"
  heap_start=$(heap_used_mib "$SERVER_PID")
  log "heap used after start (after a full GC): $heap_start MiB"
  run_bench backlog --users "$bl_users" --messages "$bl_msgs" --ws-port "$WS_PORT" --push-port "$PUSH_PORT" \
    --server-pid "$SERVER_PID" --json "$results" --label "backlog on $total stored" || rc=$?
  heap_drained=$(heap_used_mib "$SERVER_PID")
  log "heap used after the backlog drain (after a full GC): $heap_drained MiB"
  run_bench direct --users 1000 --rate "$direct_rate" --find-max --step "$direct_secs" --max-steps "$direct_steps" --ws-port "$WS_PORT" \
    --push-port "$PUSH_PORT" --server-pid "$SERVER_PID" --json "$results" --label "direct on $total stored" || rc=$?
  stop_server
  echo "store-scale engine=log stored=$total data=$data_size keys_aged=$KEYS_AGED cold=$COLD fill=\"$fill\" start_ms=$start_ms" \
    "heap_after_start_mib=$heap_start heap_after_drain_mib=$heap_drained" \
    "drain_msg_per_s=$(grep '"backlog' "$results" | tail -1 | grep -oE '"drain_msg_per_s":[0-9.]+' | cut -d: -f2)" \
    "direct_max_rate=$(json_field "$results" max_rate)"
  return $rc
}

LOCK=/tmp/switchboard-bench.lock
exec 9>>"$LOCK"
if ! flock -n 9; then
  log "another bench.sh run holds $LOCK; waiting for it (up to ${LOCK_WAIT:-1200} s)"
  flock -w "${LOCK_WAIT:-1200}" 9 || die "still locked after ${LOCK_WAIT:-1200} s"
fi

build
# Run private copies: a rebuild of either jar during the run must not pull it from under the JVMs.
RUN_DIR=$(mktemp -d /tmp/switchboard-bench-jars.XXXXXX)
WORK_DIRS+=("$RUN_DIR")
cp "$SERVER_JAR" "$RUN_DIR/switchboard-fat.jar"
cp "$BENCH_JAR" "$RUN_DIR/switchboard-bench.jar"
SERVER_JAR_ORIG=$SERVER_JAR
SERVER_JAR="$RUN_DIR/switchboard-fat.jar"
BENCH_JAR="$RUN_DIR/switchboard-bench.jar"
header
rc=0
case "$SCENARIO" in
  smoke)
    # small, fast and strict: CI runs this; the small backlog and fan-out runs check those code paths of the tool
    sb_run 1000 10000 smoke --users 20 --rate 200 --duration 4 --warmup 1 --drain 10 "${ARGS[@]}" || rc=$?
    # with the webhook on: the notifications come with the fill, so checking them costs no extra run
    webhook_on 1000
    sb_run 1000 10000 backlog --users 20 --messages 50 "${WEBHOOK_ARGS[@]}" "${ARGS[@]}" || rc=$?
    webhook_off
    sb_run 1000 10000 fanout --users 50 --pushes 3 --warmup-pushes 1 "${ARGS[@]}" || rc=$?
    ;;
  direct|idle|backlog|fanout)
    if [[ $WEBHOOK == 1 ]]; then
      webhook_on $((USERS * $(num "$(opt messages 500)")))
      ARGS+=("${WEBHOOK_ARGS[@]}")
    fi
    if [[ "$ENGINE" == postgres ]]; then
      # one database, as round 1 of cluster-direct: the same schema and settings, only no cluster
      start_pg 1
      SB_INBOX=",\"engine\":\"postgres\",$(pg_setting 1)"
      SB_PG_ARGS=(--pg-pid "${PG_POSTMASTERS[0]}")
      log "single node (not clustered) on PostgreSQL: inbox $(pg_setting 1)"
    fi
    sb_run "$RCPT" "$MAXMSGS" "$SCENARIO" "${ARGS[@]}" || rc=$?
    if [[ "$ENGINE" == postgres ]]; then
      pg_stats 1
      stop_pg
    fi
    ;;
  rooms)
    sb_run "$ROOM_RCPT" "$ROOM_MSGS" rooms "${ARGS[@]}" || rc=$?
    ;;
  mqtt)
    mq_run "${ARGS[@]}" || rc=$?
    ;;
  store-scale)
    store_scale || rc=$?
    ;;
  compare)
    RESULTS=$(mktemp /tmp/switchboard-compare.XXXXXX.jsonl)
    WORK_DIRS+=("$RESULTS")
    for ((r = 1; r <= ROUNDS; r++)); do
      log "compare round $r of $ROUNDS: Switchboard"
      sb_run "$RCPT" "$MAXMSGS" direct "${ARGS[@]}" --json "$RESULTS" --label "round $r" || rc=$?
      log "compare round $r of $ROUNDS: mosquitto"
      mq_run "${ARGS[@]}" --json "$RESULTS" --label "round $r" || rc=$?
    done
    java -jar "$BENCH_JAR" table --json "$RESULTS" || rc=$?
    [[ $KEEP == 1 ]] && log "results: $RESULTS"
    ;;
  storm)
    on_fresh_clusters storm "$CL_RCPT" storm_round
    ;;
  cluster-direct)
    on_fresh_clusters cluster-direct "$RCPT" cluster_direct_round
    ;;
  cluster-fanout)
    on_fresh_clusters cluster-fanout "$RCPT" cluster_fanout_round
    ;;
  cluster-idle)
    # connect rate: an N-node cluster, a 1-node cluster on the same PostgreSQL, and (unless --no-single)
    # the plain single node on the default engine (log); each on fresh processes and a fresh database
    RESULTS=$(mktemp /tmp/switchboard-cluster-idle.XXXXXX.jsonl)
    WORK_DIRS+=("$RESULTS")
    start_pg $((2 * ROUNDS))
    for ((r = 1; r <= ROUNDS; r++)); do
      log "cluster-idle round $r of $ROUNDS: $NODES-node cluster"
      start_cluster "$NODES" $((2 * r - 1)) "$CL_RCPT" "$MAXMSGS"
      # shellcheck disable=SC2046
      run_bench idle "${ARGS[@]}" $(cluster_args) --json "$RESULTS" --label "$NODES-node cluster, PostgreSQL" || rc=$?
      stop_cluster
      pg_stats $((2 * r - 1))
      if [[ $NODES != 1 ]]; then
        log "cluster-idle round $r of $ROUNDS: 1-node cluster"
        start_cluster 1 $((2 * r)) "$CL_RCPT" "$MAXMSGS"
        # shellcheck disable=SC2046
        run_bench idle "${ARGS[@]}" $(cluster_args) --json "$RESULTS" --label "1-node cluster, PostgreSQL" || rc=$?
        stop_cluster
        pg_stats $((2 * r))
      fi
      if [[ $SINGLE == 1 ]]; then
        log "cluster-idle round $r of $ROUNDS: one node, not clustered, log"
        sb_run "$CL_RCPT" "$MAXMSGS" idle "${ARGS[@]}" --json "$RESULTS" --label "1 node, log, no cluster" || rc=$?
      fi
    done
    stop_pg
    java -jar "$BENCH_JAR" connect-table --json "$RESULTS" --baseline "1-node cluster, PostgreSQL" || rc=$?
    [[ $KEEP == 1 ]] && log "results: $RESULTS"
    ;;
esac
exit $rc
