#!/usr/bin/env bash
# Accuracy of `tuntap emulate link`, measured with real programs in one run on this machine:
#   delay: UDP echo RTT with 50 ms one way each direction (so 100 ms configured), median / p99 / min,
#          with the default precise timer and with --coarse-timer, plus the emulator's CPU time;
#   rate:  iperf3 TCP goodput at 10 / 100 / 1000 Mbit/s against the configured rate;
#   loss:  5% each way, measured on the emulator's counters over many pings, against 3 sigma;
#   overhead: iperf3 with no impairment through the emulator against a bare veth pair, and the
#             same with the per-packet event log on (--log) against without it.
# Prints one table. Absolute throughput on a shared machine is noise; deviations and ratios are the result.
#
# Usage: sudo bench/emulate.sh [--seconds S] [--pings N] [--rates "10 100 1000"]
# Everything runs in namespaces tt-bench-emu-*-XXXXXX, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

seconds=5 pings=200 rates="10 100 1000"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --pings) pings=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (namespaces, TUN devices): sudo $0" >&2; exit 1; }

bench_require iperf3 jq ping=iputils-ping python3

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/TunTap.Cli -c Release -nologo -v quiet >/dev/null
tuntap=(dotnet "$PWD/src/TunTap.Cli/bin/Release/net10.0/tuntap.dll")

suffix=$(bench_suffix)
A=tt-bench-emu-a-$suffix B=tt-bench-emu-b-$suffix
work=$(mktemp -d /tmp/tt-bench-emu-XXXXXX)
emu_pid=""

stop_emulator() {
  if [ -n "$emu_pid" ]; then
    bench_stop "$emu_pid"
    wait "$emu_pid" 2>/dev/null || true
    emu_pid=""
  fi
}
cleanup() {
  stop_emulator
  bench_remove_namespaces "$A" "$B"
  if [ -n "${KEEP_WORK:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

bench_add_namespaces "$A" "$B"

# start_emulator LOGNAME OPTIONS...
start_emulator() {
  local log="$work/$1.log"; shift
  "${tuntap[@]}" emulate link --a "$A" --b "$B" --stats-interval 0 "$@" >"$log" 2>&1 &
  emu_pid=$!
  for _ in $(seq 300); do grep -q "Ctrl-C stops" "$log" && return 0; sleep 0.1; done
  echo "error: the emulator did not start:" >&2; cat "$log" >&2; exit 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# ping prints RTTs of 100 ms and more in whole milliseconds: a UDP echo measured in Python
# gives microseconds. udp_rtts COUNT INTERVAL > file of RTTs in ms, one per line.
udp_rtts() {
  ip netns exec "$B" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.200.0.2", 7777)); s.settimeout(30)
try:
    while True:
        data, peer = s.recvfrom(2048)
        if data == b"stop": break
        s.sendto(data, peer)
except socket.timeout:
    pass' &
  local server=$!
  sleep 0.5
  ip netns exec "$A" python3 -c '
import socket, struct, sys, time
count, interval = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
for i in range(count):
    start = time.perf_counter()
    s.sendto(struct.pack("!I", i), ("10.200.0.2", 7777))
    try:
        while True:
            data, _ = s.recvfrom(2048)
            if struct.unpack("!I", data[:4])[0] == i: break
        rtt = time.perf_counter() - start
        print("%.3f" % (rtt * 1000))
    except socket.timeout:
        rtt = 0
    time.sleep(max(0, interval - rtt))
s.sendto(b"stop", ("10.200.0.2", 7777))' "$1" "$2"
  wait "$server" 2>/dev/null || true
}

# rtt_stats FILE -> "median p99 min" (ms) of the RTTs in FILE
rtt_stats() {
  sort -n "$1" | awk '{v[NR]=$1} END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.99 + 0.999)]; if (p == "") p = v[NR];
    printf "%.3f %.3f %.3f\n", m, p, v[1] }'
}

iperf_mbit() { # iperf_mbit SERVER_NS CLIENT_NS ADDRESS
  ip netns exec "$1" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 50); do ip netns exec "$1" ss -ltn 2>/dev/null | grep -q ":5201" && break; sleep 0.1; done
  ip netns exec "$2" iperf3 -c "$3" -t "$seconds" -J >"$work/iperf.json" 2>&1 || true
  wait "$server" 2>/dev/null || true
  jq -r '(.end.sum_received.bits_per_second // 0) / 1e6' "$work/iperf.json"
}

rows=()
row() { rows+=("$(printf '| %-40s | %-11s | %-20s | %-36s |' "$@")"); }

# Delay accuracy. The baseline (no delay) is the probe's own round trip: Python, the kernels and
# the emulator's forwarding; the delayed runs are compared with 100 ms plus that baseline.
interval=$(awk -v n="$pings" 'BEGIN { i = 10 / n; if (i < 0.02) i = 0.02; print i }')
start_emulator baseline
ip netns exec "$A" ping -c 3 -i 0.1 10.200.0.2 >/dev/null || true
udp_rtts "$pings" "$interval" >"$work/rtt-baseline.txt"
stop_emulator
read -r base_median base_p99 base_min < <(rtt_stats "$work/rtt-baseline.txt")
row "UDP RTT, no delay (probe baseline)" "0 ms" "$base_median ms" "p99 $base_p99 ms, min $base_min ms"
for mode in precise coarse-timer; do
  extra=(); [ "$mode" = coarse-timer ] && extra=(--coarse-timer)
  start_emulator "delay-$mode" --delay 50ms "${extra[@]}"
  ip netns exec "$A" ping -c 3 -i 0.1 10.200.0.2 >/dev/null || true   # warm up (JIT)
  before=$(cpu_ticks "$emu_pid"); t0=$(date +%s.%N)
  udp_rtts "$pings" "$interval" >"$work/rtt-$mode.txt"
  after=$(cpu_ticks "$emu_pid"); t1=$(date +%s.%N)
  read -r median p99 min < <(rtt_stats "$work/rtt-$mode.txt")
  cpu=$(awk -v a="$after" -v b="$before" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * (a - b) / hz / (t1 - t0) }')
  row "UDP RTT median, 50 ms each way ($mode)" "100 ms" "$median ms" "$(awk -v m="$median" -v b="$base_median" 'BEGIN { printf "%+.3f ms (%+.3f over baseline)", m - 100, m - 100 - b }')"
  row "RTT p99 ($mode)" "100 ms" "$p99 ms" "$(awk -v m="$p99" -v b="$base_p99" 'BEGIN { printf "%+.3f ms (%+.3f over baseline)", m - 100, m - 100 - b }')"
  row "RTT min ($mode)" "100 ms" "$min ms" "$(awk -v m="$min" -v b="$base_min" 'BEGIN { printf "%+.3f ms (%+.3f over baseline)", m - 100, m - 100 - b }')"
  row "emulator CPU during probes ($mode)" "-" "${cpu}% of a core" "$pings probes at ${interval}s"
  stop_emulator
done

# Rate accuracy.
for r in $rates; do
  start_emulator "rate-$r" --rate "${r}mbit"
  got=$(iperf_mbit "$B" "$A" 10.200.0.2)
  stop_emulator
  row "TCP goodput, rate ${r}mbit" "$r Mbit/s" "$(printf '%.2f' "$got") Mbit/s" "$(awk -v g="$got" -v r="$r" 'BEGIN { printf "%.1f%% of configured", 100 * g / r }')"
done

# Loss accuracy (on the emulator's own counters: every offered packet is a trial).
loss_pings=$(( pings * 10 ))
start_emulator loss --loss 5% --seed 1
ip netns exec "$A" ping -c "$loss_pings" -i 0.002 -W 1 -q 10.200.0.2 >/dev/null 2>&1 || true
stop_emulator
offered=$(grep -o 'a->b ([^)]*): offered=[0-9]*' "$work/loss.log" | tail -1 | grep -o '[0-9]*$')
lost=$(grep '^summary:' "$work/loss.log" | grep -o 'dropped-loss=[0-9]*' | head -1 | cut -d= -f2)
row "loss a->b, 5%" "5%" "$(awk -v l="$lost" -v n="$offered" 'BEGIN { printf "%.2f%% of %d", 100 * l / n, n }')" \
  "$(awk -v l="$lost" -v n="$offered" 'BEGIN { s = sqrt(n * 0.05 * 0.95); printf "%+.1f sigma (3 sigma = %.2f%%)", (l - n * 0.05) / s, 300 * s / n }')"

# Overhead: no impairment through the emulator vs a bare veth pair; and the event log's cost.
start_emulator plain
through=$(iperf_mbit "$B" "$A" 10.200.0.2)
stop_emulator
start_emulator plain-log --log "$work/events.csv"
logged=$(iperf_mbit "$B" "$A" 10.200.0.2)
stop_emulator
log_line=$(grep '^log: ' "$work/plain-log.log" || echo "log: ? (? events, ? dropped)")
row "TCP, no impairment: --log vs without" "-" "$(printf '%.0f / %.0f Mbit/s' "$logged" "$through")" \
  "$(awk -v l="$logged" -v t="$through" 'BEGIN { printf "ratio %.3f", l / t }'); $(echo "$log_line" | grep -o '[0-9?]* events, [0-9?]* dropped')"
bench_veth "$A" tt-bv0 10.201.0.1/24 "$B" tt-bv1 10.201.0.2/24
bare=$(iperf_mbit "$B" "$A" 10.201.0.2)
row "TCP, no impairment: emulate vs veth" "-" "$(printf '%.0f / %.0f Mbit/s' "$through" "$bare")" "$(awk -v t="$through" -v b="$bare" 'BEGIN { printf "ratio %.3f", t / b }')"

echo
echo "tuntap emulate link accuracy ($(nproc) cores, $(uname -r), iperf3 ${seconds}s, $pings pings)"
printf '| %-40s | %-11s | %-20s | %-36s |\n' "measure" "configured" "achieved" "deviation"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 42))" "$(printf -- '-%.0s' $(seq 13))" "$(printf -- '-%.0s' $(seq 22))" "$(printf -- '-%.0s' $(seq 38))"
printf '%s\n' "${rows[@]}"
