#!/usr/bin/env bash
# Two namespaces joined by `tuntap switch` (two TAP ports) and two joined by a Linux bridge (veth
# pairs into a bridge in a third namespace), measured in one run on this machine: iperf3 TCP
# throughput (one stream) and small-frame rate (iperf3 UDP with an 18-byte payload: 60-byte
# frames, 64 on a wire; frames/s the far side received). Prints medians of --runs and the ratios
# ours/bridge. Absolute numbers on a shared machine are noise; the ratios are the result. The
# bridge's veths pass 64 KiB GSO packets while a plain TAP moves MTU-sized frames, which favours
# the bridge on TCP; the frame rate compares the per-frame cost.
#
# Usage: sudo bench/switch.sh [--runs N] [--seconds S] [--udp-rate BITS]
# Everything runs in namespaces tt-bsw-*-XXXXXX; they are removed on exit. Takes about
# 4 x runs x (seconds + 2) s plus the build.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

runs=3 seconds=5 udp_rate=2G
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --udp-rate) udp_rate=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (namespaces, TAP devices): sudo $0" >&2; exit 1; }

bench_require iperf3 jq

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/TunTap.Cli -c Release -nologo -v quiet >/dev/null
tuntap=(dotnet "$PWD/src/TunTap.Cli/bin/Release/net10.0/tuntap.dll")

suffix=$(bench_suffix)
SA=tt-bsw-sa-$suffix SB=tt-bsw-sb-$suffix       # on tuntap switch
LA=tt-bsw-la-$suffix LB=tt-bsw-lb-$suffix LBR=tt-bsw-br-$suffix # on a Linux bridge
namespaces=("$SA" "$SB" "$LA" "$LB" "$LBR")
work=$(mktemp -d /tmp/tt-bsw-XXXXXX)
switch_pid=

cleanup() {
  if [ -n "$switch_pid" ]; then bench_stop "$switch_pid"; fi
  bench_remove_namespaces "${namespaces[@]}"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

bench_add_namespaces "${namespaces[@]}"

# The Linux bridge: LA -veth- [br0 in LBR] -veth- LB.
ip -n "$LBR" link add br0 type bridge
ip -n "$LBR" link set br0 up
for side in a b; do
  ns=$LA addr=10.68.0.1/24
  [ "$side" = b ] && ns=$LB addr=10.68.0.2/24
  ip link add "tt-b$side" netns "$LBR" type veth peer name eth0 netns "$ns"
  ip -n "$LBR" link set "tt-b$side" master br0 up
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
done

# tuntap switch: SA -TAP- [switch] -TAP- SB.
"${tuntap[@]}" switch run "tt-bsw-$suffix" --port "tap:tt-swa@$SA" --port "tap:tt-swb@$SB" --stats-interval 0 >"$work/switch.log" 2>&1 &
switch_pid=$!
for _ in $(seq 300); do
  grep -q "running with 2 ports" "$work/switch.log" && break
  kill -0 "$switch_pid" 2>/dev/null || { cat "$work/switch.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "running with 2 ports" "$work/switch.log" || { echo "error: the switch did not start:" >&2; cat "$work/switch.log" >&2; exit 1; }
ip -n "$SA" addr add 10.67.0.1/24 dev tt-swa
ip -n "$SB" addr add 10.67.0.2/24 dev tt-swb

wait_ping() { bench_wait_ping "$1" "$2" || { echo "error: $2 does not answer from $1" >&2; return 1; }; }
wait_ping "$SA" 10.67.0.2
wait_ping "$LA" 10.68.0.2

# iperf3 from CLIENT_NS to SERVER_ADDR in SERVER_NS with extra client options; prints the client's JSON.
iperf() {
  local client=$1 server_ns=$2 server=$3
  shift 3
  local log="$work/iperf-server.log"
  ip netns exec "$server_ns" timeout $((seconds + 30)) iperf3 -s -1 -B "$server" --forceflush >"$log" 2>&1 &
  local srv=$!
  for _ in $(seq 100); do grep -q "Server listening" "$log" && break; sleep 0.1; done
  ip netns exec "$client" timeout $((seconds + 20)) iperf3 -c "$server" -t "$seconds" -J "$@" 2>/dev/null || echo '{}'
  wait "$srv" 2>/dev/null || true
}

tcp_gbps() { iperf "$@" | jq -r '.end.sum_received.bits_per_second // 0 | . / 1e9 | . * 1000 | round / 1000'; }

# Frames/s the server received: (packets - lost) / seconds, from the server's report in the client's JSON.
udp_fps() {
  iperf "$@" -u -l 18 -b "$udp_rate" | jq -r '(.end.sum // {}) as $s | (($s.packets // 0) - ($s.lost_packets // 0)) / ($s.seconds // 1) | round'
}

measure() {
  local what=$1 results=()
  shift
  for _ in $(seq "$runs"); do results+=("$("$what" "$@")"); done
  echo "${results[*]}" | median
}

printf 'measuring TCP (%s runs x %ss each)...\n' "$runs" "$seconds" >&2
ours_tcp=$(measure tcp_gbps "$SA" "$SB" 10.67.0.2)
bridge_tcp=$(measure tcp_gbps "$LA" "$LB" 10.68.0.2)
printf 'measuring 64-byte frames (UDP, 18-byte payload, -b %s)...\n' "$udp_rate" >&2
ours_fps=$(measure udp_fps "$SA" "$SB" 10.67.0.2)
bridge_fps=$(measure udp_fps "$LA" "$LB" 10.68.0.2)

printf '\n%-28s %14s %14s %12s\n' test "tuntap switch" "linux bridge" ours/bridge
awk -v a="$ours_tcp" -v b="$bridge_tcp" 'BEGIN { printf "%-28s %14.3f %14.3f %12s\n", "TCP Gbit/s (1 stream)", a, b, (b > 0 ? sprintf("%.2fx", a / b) : "n/a") }'
awk -v a="$ours_fps" -v b="$bridge_fps" 'BEGIN { printf "%-28s %14d %14d %12s\n", "64-byte frames/s received", a, b, (b > 0 ? sprintf("%.2fx", a / b) : "n/a") }'
echo "(medians of $runs runs of ${seconds}s; iperf3 $(iperf3 --version | head -1 | awk '{print $2}'))"
