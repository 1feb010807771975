#!/usr/bin/env bash
# The load comparison of docs/load.md: echo servers under the same generator
# (tools/src/bin/load.rs), over 127.0.0.1, the server pinned to CPU 0 and the
# generator to CPU 1.
#
#   bash benches/load.sh            # about 8 minutes with the defaults
#
# Servers (SERVERS, space-separated; default the four below): mio_echo
# (wsproto, one thread, mio), adapter_echo (wsproto-tokio, single-threaded
# tokio), peer_fastwebsockets_echo (fastwebsockets 0.10 on hyper +
# single-threaded tokio), peer_tokio_tungstenite_echo (tokio-tungstenite
# 0.30, single-threaded tokio); also available: echo_server (wsproto, a
# thread per connection), peer_tungstenite_echo (tungstenite 0.30, a thread
# per connection). For each of RUNS rounds, every server in turn
# (alternating, so drift hits all alike, and ratios are taken within a
# round), each on a fresh process:
#   idle  1,000 connections opened and left quiet: server RSS delta / 1,000
#   echo  for each of CONNS connections and each of IN_FLIGHT messages in
#         flight per connection, closed loop, 1 KiB binary messages, WARMUP s
#         then DURATION s measured: messages/s, p50/p99 latency, server CPU
#         time per message; then the server's peak RSS (VmHWM)
# Then, once per server (MISBEHAVE=1), two rounds of `load misbehave` (1,000
# connections, 10% misbehaving) on one process: the well-behaved clients
# must see no error and lose no message, and RSS after the second round
# shows whether memory is reused (no growth) or leaks.
#
# When run as root, server and generator run SCHED_FIFO (`chrt -f 10`), so
# that other work on the machine (builds, a fuzz campaign) cannot delay
# their wake-ups; LOAD_RT=0 turns that off. The misbehave rounds always run
# the generator SCHED_OTHER: its misbehaving threads must get CPU time too.
#
# Knobs: SERVERS, RUNS (3), CONNS ("100 1000"), IN_FLIGHT ("1 16"), WARMUP
# (1), DURATION (5), MISBEHAVE (1), OUT (target/load). A round takes about
# (4 + 7 x CONNS x IN_FLIGHT entries) s per server: 32 s with the defaults.
# Prints the tables; exits non-zero if a wsproto server fails the
# misbehave check.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
DURATION=${DURATION:-5}
OUT=${OUT:-target/load}
MISBEHAVE=${MISBEHAVE:-1}
read -r -a SERVERS <<<"${SERVERS:-mio_echo adapter_echo peer_fastwebsockets_echo peer_tokio_tungstenite_echo}"
read -r -a CONNS <<<"${CONNS:-100 1000}"
read -r -a IN_FLIGHT <<<"${IN_FLIGHT:-1 16}"
PORT=9390

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
cargo build --release --quiet -p wsproto-tools --bins
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
    echo "$line run=$RUN" | tee -a "$RESULTS"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "scheduling: ${RT[*]:-SCHED_OTHER}; $RUNS runs, ${WARMUP}s warm-up + ${DURATION}s measured"
echo "servers: ${SERVERS[*]}; connections: ${CONNS[*]}; in flight: ${IN_FLIGHT[*]}"
RUN=0
for RUN in $(seq 1 "$RUNS"); do
    for server in "${SERVERS[@]}"; do
        echo "--- run $RUN: $server"
        start_server "$server"
        load idle "$server" --conns 1000
        stop_server
        start_server "$server"
        for conns in "${CONNS[@]}"; do
            for depth in "${IN_FLIGHT[@]}"; do
                load echo "$server" --conns "$conns" --in-flight "$depth"
            done
        done
        stop_server
    done
done
for server in "${SERVERS[@]}"; do
    [[ $MISBEHAVE == 1 ]] || break
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
configs = sorted({(int(r["conns"]), int(r.get("in_flight", "1")))
                  for r in rows if r["mode"] == "echo"})

def echo_rows(server, config):
    return [r for r in rows if r["label"] == server and r["mode"] == "echo"
            and (int(r["conns"]), int(r.get("in_flight", "1"))) == config]

def values(rs, key):
    return [float(r[key]) for r in rs if key in r]

def cell(vs, fmt="{:.0f}"):
    if not vs:
        return "-"
    med = fmt.format(statistics.median(vs))
    if len(vs) == 1:
        return med
    return f"{med} ({fmt.format(min(vs))}-{fmt.format(max(vs))})"

def table(head, lines):
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for cells in lines:
        print("| " + " | ".join(cells) + " |")

print()
print("median (min-max) of the runs; latency in us, CPU in ns per message")
print()
lines = []
for config in configs:
    for s in servers:
        rs = echo_rows(s, config)
        if rs:
            lines.append([s, str(config[0]), str(config[1])] + [
                cell(values(rs, key)) for key in ("msgs_per_s", "p50_us", "p99_us",
                                                  "server_ns_per_msg", "server_user_ns_per_msg",
                                                  "server_cpu_pct", "gen_cpu_pct")])
table(["server", "conns", "in flight", "msgs/s", "p50", "p99", "server ns/msg",
       "server user ns/msg", "server CPU %", "gen CPU %"], lines)

print()
lines = []
for s in servers:
    idle = values([r for r in rows if r["label"] == s and r["mode"] == "idle"],
                  "idle_bytes_per_conn")
    peak = values([r for r in rows if r["label"] == s and r["mode"] == "echo"], "peak_rss_kib")
    lines.append([s, cell(idle), f"{max(peak) / 1024:.1f}" if peak else "-"])
table(["server", "idle B/conn (1,000 connections)", "peak RSS MiB"], lines)

# Server CPU per message of one server over another's, taken within each
# round (the servers of a round ran back to back, so drift of the machine
# cancels), then the median (min-max) over the rounds.
def ratios(numerator, denominator, config):
    def per_run(server):
        return {r["run"]: float(r["server_ns_per_msg"]) for r in echo_rows(server, config)
                if "server_ns_per_msg" in r and "run" in r}
    a, b = per_run(numerator), per_run(denominator)
    return [a[k] / b[k] for k in a if k in b and b[k] > 0]

# (numerator, denominator, the issue's target for the median, if any)
pairs = [("adapter_echo", "mio_echo", lambda m: m <= 1.2),
         ("peer_tokio_tungstenite_echo", "adapter_echo", lambda m: m >= 1.5),
         ("peer_fastwebsockets_echo", "adapter_echo", None)]
pairs = [p for p in pairs if p[0] in servers and p[1] in servers]
if pairs:
    print()
    print("server CPU per message, ratios within a round: median (min-max) over the rounds;")
    print("targets: adapter_echo / mio_echo <= 1.2, peer_tokio_tungstenite_echo / adapter_echo >= 1.5")
    print()
    lines = []
    for config in configs:
        cells = [str(config[0]), str(config[1])]
        for numerator, denominator, target in pairs:
            rs = ratios(numerator, denominator, config)
            c = cell(rs, "{:.2f}")
            if rs and target:
                c += " met" if target(statistics.median(rs)) else " NOT met"
            cells.append(c)
        lines.append(cells)
    table(["conns", "in flight"] + [f"{n} / {d}" for n, d, _ in pairs], lines)

failed = False
lines = []
for s in servers:
    rs = [r for r in rows if r["label"] == s and r["mode"] == "misbehave"]
    if not rs:
        continue
    ok = all(r.get("ok") == "true" for r in rs)
    if s in ("mio_echo", "echo_server", "adapter_echo") and not ok:
        failed = True
    joined = lambda k: "+".join(r.get(k, "-") for r in rs)
    after = lambda i: rs[i].get("rss_after_kib", "-") if i < len(rs) else "-"
    peak = max((int(r["peak_rss_kib"]) for r in rs if "peak_rss_kib" in r), default="-")
    lines.append([s, f"{joined('errors')} / {joined('lost')}", joined("echoes"),
                  joined("bad_acts"), rs[0].get("rss_before_kib", "-"), str(peak),
                  after(0), after(1), "yes" if ok else "NO"])
if lines:
    print()
    print("misbehave (1,000 connections, 10% misbehaving), two rounds on one process:")
    print()
    table(["server", "good clients: errors / lost", "echoes", "bad acts", "RSS before KiB",
           "peak KiB", "after round 1 KiB", "after round 2 KiB", "ok"], lines)
sys.exit(1 if failed else 0)
EOF
