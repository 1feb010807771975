#!/usr/bin/env bash
# The load comparison of docs/load.md: four echo servers under the same
# generator (tools/src/bin/load.rs), over 127.0.0.1, the server pinned to CPU 0
# and the generator to CPU 1.
#
#   bash benches/load.sh            # about 6 minutes
#
# Servers: mio_echo (wsproto, one thread, mio), echo_server (wsproto, a
# thread per connection), peer_fastwebsockets_echo (fastwebsockets 0.10 on
# hyper + single-threaded tokio), peer_tungstenite_echo (tungstenite 0.30, a
# thread per connection). For each of RUNS rounds, every server in turn
# (alternating, so drift hits all alike), each on a fresh process:
#   idle  1,000 connections opened and left quiet: server RSS delta / 1,000
#   echo  100, then 1,000 connections, closed loop, 1 KiB binary messages,
#         WARMUP s then DURATION s measured: messages/s, p50/p99 latency,
#         server CPU time per message; then the server's peak RSS (VmHWM)
# Then, once per server, two rounds of `load misbehave` (1,000 connections,
# 10% misbehaving) on one process: the well-behaved clients must see no
# error and lose no message, and RSS after the second round shows whether
# memory is reused (no growth) or leaks.
#
# When run as root, server and generator run SCHED_FIFO (`chrt -f 10`), so
# that other work on the machine (builds, a fuzz campaign) cannot delay
# their wake-ups; LOAD_RT=0 turns that off. The misbehave rounds always run
# the generator SCHED_OTHER: its misbehaving threads must get CPU time too.
#
# Knobs: RUNS (3), WARMUP (1), DURATION (5), OUT (target/load).
# Prints the tables; exits non-zero if a wsproto server fails the
# misbehave check.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
DURATION=${DURATION:-5}
OUT=${OUT:-target/load}
PORT=9390
SERVERS=(mio_echo echo_server peer_fastwebsockets_echo peer_tungstenite_echo)

[[ $(uname -s) == Linux ]] || { echo "load.sh reads /proc: Linux only" >&2; exit 2; }
if (($(nproc) < 2)); then
    echo "load.sh wants 2 CPUs (server on CPU 0, generator on CPU 1)" >&2
    exit 2
fi
# 1,000 connections take 2,000 descriptors when both ends are in one run.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 4096)); then
    echo "ulimit -n is $(ulimit -n); 4096 or more is needed" >&2
    exit 2
fi

RT=()
if [[ ${LOAD_RT:-1} == 1 ]] && chrt -f 10 true 2>/dev/null; then
    RT=(chrt -f 10)
fi

cargo build --release --quiet --example mio_echo --example echo_server
cargo build --release --quiet -p wsproto-tools --bin load --bin peer_fastwebsockets_echo \
    --bin peer_tungstenite_echo
TARGET=${CARGO_TARGET_DIR:-target}/release
# bin NAME: the path of a server or of the generator (the core's examples,
# the tools crate's binaries).
bin() {
    case $1 in
        mio_echo | echo_server) echo "$TARGET/examples/$1" ;;
        *) echo "$TARGET/$1" ;;
    esac
}
mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"

SERVER_PID=
start_server() {
    PORT=$((PORT + 1))
    taskset -c 0 "${RT[@]}" "$(bin "$1")" "127.0.0.1:$PORT" >>"$OUT/$1.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "$1 did not start" >&2
    return 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

# load MODE SERVER [generator options...]: one generator run, its RESULT line kept.
load() {
    local mode=$1 server=$2
    shift 2
    local rt=("${RT[@]}")
    [[ $mode == misbehave ]] && rt=()
    local line
    line=$(taskset -c 1 "${rt[@]}" "$(bin load)" "$mode" "127.0.0.1:$PORT" --label "$server" \
        --server-pid "$SERVER_PID" --warmup "$WARMUP" --duration "$DURATION" "$@" \
        2>>"$OUT/load.log" | grep '^RESULT') || line="RESULT mode=$mode label=$server ok=false"
    echo "$line" | tee -a "$RESULTS"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "scheduling: ${RT[*]:-SCHED_OTHER}; $RUNS runs, ${WARMUP}s warm-up + ${DURATION}s measured"
for run in $(seq 1 "$RUNS"); do
    for server in "${SERVERS[@]}"; do
        echo "--- run $run: $server"
        start_server "$server"
        load idle "$server" --conns 1000
        stop_server
        start_server "$server"
        load echo "$server" --conns 100
        load echo "$server" --conns 1000
        stop_server
    done
done
for server in "${SERVERS[@]}"; do
    echo "--- misbehave: $server"
    start_server "$server"
    load misbehave "$server" --conns 1000 --bad-percent 10 | sed 's/^/round 1: /'
    load misbehave "$server" --conns 1000 --bad-percent 10 | sed 's/^/round 2: /'
    stop_server
done

python3 - "$RESULTS" <<'EOF'
import sys, statistics
rows = []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("round "):
        line = line.split(": ", 1)[1]
    if not line.startswith("RESULT"):
        continue
    rows.append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
servers = []
for r in rows:
    if r["label"] not in servers:
        servers.append(r["label"])

def values(server, mode, key, conns=None):
    out = []
    for r in rows:
        if r["label"] == server and r["mode"] == mode and key in r:
            if conns is None or r.get("conns") == str(conns):
                out.append(float(r[key]))
    return out

def cell(vs, scale=1.0, fmt="{:.0f}"):
    if not vs:
        return "-"
    vs = [v * scale for v in vs]
    med = fmt.format(statistics.median(vs))
    if len(vs) == 1:
        return med
    return f"{med} ({fmt.format(min(vs))}-{fmt.format(max(vs))})"

print()
print("median (min-max) of the runs; latency in us, CPU in ns per message")
print()
head = ["server", "idle B/conn", "msgs/s @100", "p50 @100", "p99 @100", "server ns/msg @100",
        "msgs/s @1000", "p50 @1000", "p99 @1000", "server ns/msg @1000", "peak RSS MiB", "gen CPU % @100"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for s in servers:
    cells = [s, cell(values(s, "idle", "idle_bytes_per_conn")),
             cell(values(s, "echo", "msgs_per_s", 100)),
             cell(values(s, "echo", "p50_us", 100)),
             cell(values(s, "echo", "p99_us", 100)),
             cell(values(s, "echo", "server_ns_per_msg", 100)),
             cell(values(s, "echo", "msgs_per_s", 1000)),
             cell(values(s, "echo", "p50_us", 1000)),
             cell(values(s, "echo", "p99_us", 1000)),
             cell(values(s, "echo", "server_ns_per_msg", 1000)),
             cell(values(s, "echo", "peak_rss_kib", 1000), 1 / 1024, "{:.1f}"),
             cell(values(s, "echo", "gen_cpu_pct", 100))]
    print("| " + " | ".join(cells) + " |")

print()
print("server user-space CPU, ns per message @100 / @1000:")
for s in servers:
    print(f"  {s}: {cell(values(s, 'echo', 'server_user_ns_per_msg', 100))} / "
          f"{cell(values(s, 'echo', 'server_user_ns_per_msg', 1000))}")

print()
print("misbehave (1,000 connections, 10% misbehaving), two rounds on one process:")
print()
head = ["server", "good clients: errors / lost", "echoes", "bad acts", "RSS before KiB",
        "peak KiB", "after round 1 KiB", "after round 2 KiB", "ok"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
failed = False
for s in servers:
    rs = [r for r in rows if r["label"] == s and r["mode"] == "misbehave"]
    if not rs:
        continue
    ok = all(r.get("ok") == "true" for r in rs)
    if s in ("mio_echo", "echo_server") and not ok:
        failed = True
    get = lambda i, k: rs[i].get(k, "-") if i < len(rs) else "-"
    print(f"| {s} | {'+'.join(get(i, 'errors') for i in range(len(rs)))} / "
          f"{'+'.join(get(i, 'lost') for i in range(len(rs)))} | "
          f"{'+'.join(get(i, 'echoes') for i in range(len(rs)))} | "
          f"{'+'.join(get(i, 'bad_acts') for i in range(len(rs)))} | {get(0, 'rss_before_kib')} | "
          f"{max((int(r['peak_rss_kib']) for r in rs if 'peak_rss_kib' in r), default='-')} | "
          f"{get(0, 'rss_after_kib')} | "
          f"{get(1, 'rss_after_kib')} | {'yes' if ok else 'NO'} |")
sys.exit(1 if failed else 0)
EOF
