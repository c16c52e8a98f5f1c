#!/usr/bin/env bash
# WireGuard speed, all in one run on this machine: iperf3 TCP, one stream and 4 streams (-P 4),
# through `tuntap wg` on both ends, Debian's wireguard-go on both ends, upstream wireguard-go HEAD
# on both ends (../shared/anchors/wireguard-go-head, skipped with a message when absent) and over
# the bare veth. Prints Gbit/s (median of --runs) and the ratios tuntap/wireguard-go and
# tuntap/HEAD, then handshakes per second on one core and bytes allocated per packet from the
# BenchmarkDotNet micro benchmarks (bench/TunTap.Benchmarks, WireGuardBenchmarks).
# Absolute numbers on a shared machine are noise; the ratios are the result. It also prints how
# many CPU cores were busy (whole machine, from /proc/stat) during each transfer, for tuntap and
# HEAD, and the Gbit/s per busy core: when both keep every core busy, speed is bounded by the cost
# per byte, and that column compares it.
#
# Usage: sudo bench/wg.sh [--runs N] [-t|--seconds S] [--omit S] [--tools "tuntap wggo head veth micro"]
# --omit S (default 1) leaves each transfer's first S seconds out of the result for every tool
# alike (iperf3 -O: TCP slow start, and our JIT warming up in a fresh process).
# Everything runs in two namespaces tt-wgb-*-XXXXXX joined by a veth; they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

runs=3 seconds=5 omit=1 tools="tuntap wggo head veth micro"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    -t|--seconds) seconds=$2; shift 2 ;;
    --omit) omit=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (namespaces, TUN devices): sudo $0" >&2; exit 1; }
has() { [[ " $tools " == *" $1 "* ]]; }

bench_require iperf3 wg=wireguard-tools wireguard-go jq

head_bin=$(realpath -m ../shared/anchors/wireguard-go-head)
if has head && [ ! -x "$head_bin" ]; then
  echo "note: $head_bin is missing; skipping the wireguard-go HEAD comparison" >&2
  tools=${tools//head/}
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if has tuntap; then dotnet build src/TunTap.Cli -c Release -nologo -v quiet >/dev/null; fi
if has micro; then dotnet build bench/TunTap.Benchmarks -c Release -nologo -v quiet >/dev/null; fi
tuntap=(dotnet "$PWD/src/TunTap.Cli/bin/Release/net10.0/tuntap.dll")

suffix=$(bench_suffix)
S=tt-wgb-s-$suffix C=tt-wgb-c-$suffix
# Interface names are global through their UAPI sockets (/var/run/wireguard/NAME.sock): unique ones.
wgS=tw$suffix-s wgC=tw$suffix-c
work=$(mktemp -d /tmp/tt-wgb-XXXXXX)
pids=()

stop_all() {
  bench_stop "${pids[@]}"
  pids=()
  bench_kill_netns "$S" "$C"
  ip -n "$S" link del "$wgS" 2>/dev/null || true
  ip -n "$C" link del "$wgC" 2>/dev/null || true
  rm -f "/var/run/wireguard/$wgS.sock" "/var/run/wireguard/$wgC.sock"
}
cleanup() {
  stop_all
  bench_remove_namespaces "$S" "$C"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

bench_add_namespaces "$S" "$C"
bench_veth "$S" tt-u0 192.168.77.1/24 "$C" tt-u1 192.168.77.2/24
(umask 077; wg genkey >"$work/s.key"; wg genkey >"$work/c.key")

cores=$(nproc)

# iperf3 from C to SERVER_ADDR with STREAMS parallel streams; prints Gbit/s received and appends
# the busy cores during the transfer to $work/cores-STREAMS.
iperf() { bench_iperf "$S" "$C" "$1" "$work/cores-$2" "$seconds" -O "$omit" -P "$2"; }

# Starts one WireGuard implementation on both ends (in the foreground, as background jobs),
# configures both with wg, and waits until a ping crosses. Returns non-zero if it never does.
start_wg() {
  local tool=$1 ns name side
  for side in s c; do
    if [ "$side" = s ]; then ns=$S name=$wgS; else ns=$C name=$wgC; fi
    case "$tool" in
      tuntap) ip netns exec "$ns" "${tuntap[@]}" wg -f "$name" --stats-interval 0 >"$work/$tool-$side.log" 2>&1 & ;;
      wggo) ip netns exec "$ns" wireguard-go -f "$name" >"$work/$tool-$side.log" 2>&1 & ;;
      head) ip netns exec "$ns" "$head_bin" -f "$name" >"$work/$tool-$side.log" 2>&1 & ;;
    esac
    pids+=($!)
  done
  for name in "$wgS" "$wgC"; do
    for _ in $(seq 200); do [ -S "/var/run/wireguard/$name.sock" ] && break; sleep 0.1; done
  done
  ip netns exec "$S" wg set "$wgS" private-key "$work/s.key" listen-port 51820 \
    peer "$(wg pubkey <"$work/c.key")" allowed-ips 10.9.0.2/32 endpoint 192.168.77.2:51821 || return 1
  ip netns exec "$C" wg set "$wgC" private-key "$work/c.key" listen-port 51821 \
    peer "$(wg pubkey <"$work/s.key")" allowed-ips 10.9.0.1/32 endpoint 192.168.77.1:51820 || return 1
  ip -n "$S" addr add 10.9.0.1/24 dev "$wgS" && ip -n "$S" link set "$wgS" up
  ip -n "$C" addr add 10.9.0.2/24 dev "$wgC" && ip -n "$C" link set "$wgC" up
  for _ in $(seq 100); do
    ip netns exec "$C" ping -c1 -W1 10.9.0.1 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Prints "single multi cores-single cores-multi" medians for one tool.
measure() {
  local tool=$1 one=() four=()
  : >"$work/cores-1"; : >"$work/cores-4"
  if [ "$tool" = veth ]; then
    for _ in $(seq "$runs"); do one+=("$(iperf 192.168.77.1 1)"); four+=("$(iperf 192.168.77.1 4)"); done
  elif start_wg "$tool"; then
    for _ in $(seq "$runs"); do one+=("$(iperf 10.9.0.1 1)"); four+=("$(iperf 10.9.0.1 4)"); done
  else
    echo "warning: $tool did not come up; logs:" >&2
    tail -n 5 "$work/$tool"-*.log >&2 || true
    one=(0) four=(0)
  fi
  stop_all
  echo "$(echo "${one[*]}" | median) $(echo "${four[*]}" | median) $(median <"$work/cores-1") $(median <"$work/cores-4")"
}

declare -A single multi single_cores multi_cores
for tool in tuntap wggo head veth; do
  single[$tool]=0 multi[$tool]=0 single_cores[$tool]=0 multi_cores[$tool]=0
  has "$tool" || continue
  printf 'measuring %s (%s runs x %ss, 1 and 4 streams)...\n' "$tool" "$runs" "$seconds" >&2
  read -r single[$tool] multi[$tool] single_cores[$tool] multi_cores[$tool] < <(measure "$tool")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? sprintf("%.2fx", a / b) : "n/a") }'; }
per_core() { awk -v g="$1" -v c="$2" 'BEGIN { printf "%.2f", (c > 0 ? g / c : 0) }'; }
printf '\n%-8s %9s %9s %9s %9s %14s %14s %12s %16s\n' streams tuntap wg-go wg-head veth tuntap/wg-go tuntap/head \
  "cores(t/h)" "Gbit/core(t/h)"
for streams in 1 4; do
  if [ "$streams" = 1 ]; then declare -n r=single c=single_cores; else declare -n r=multi c=multi_cores; fi
  printf '%-8s %9.3f %9.3f %9.3f %9.3f %14s %14s %12s %16s\n' "$streams" "${r[tuntap]}" "${r[wggo]}" "${r[head]}" "${r[veth]}" \
    "$(ratio "${r[tuntap]}" "${r[wggo]}")" "$(ratio "${r[tuntap]}" "${r[head]}")" \
    "$(printf '%.2f/%.2f' "${c[tuntap]}" "${c[head]}")" \
    "$(per_core "${r[tuntap]}" "${c[tuntap]}")/$(per_core "${r[head]}" "${c[head]}")"
  unset -n r c
done
echo "(Gbit/s, iperf3 TCP, median of $runs runs of ${seconds}s after ${omit}s left out; tunnel MTU 1420; wg-go is Debian's wireguard-go;"
echo " cores: busy CPUs of $cores during the transfer, whole machine, t = tuntap, h = wg-head)"

if has micro; then
  printf '\nmeasuring handshakes and per-packet allocation (BenchmarkDotNet, short job, one thread)...\n' >&2
  (cd "$work" && dotnet "$OLDPWD/bench/TunTap.Benchmarks/bin/Release/net10.0/TunTap.Benchmarks.dll" \
    --filter '*WireGuardBenchmarks*' --job short --inProcess --memory --exporters json >"$work/bdn.log" 2>&1) || {
    echo "warning: the micro benchmarks failed; log tail:" >&2; tail -n 20 "$work/bdn.log" >&2; exit 1; }
  jq -r '.Benchmarks[] | [.Method, .Statistics.Mean, (.Memory.BytesAllocatedPerOperation // 0)] | @tsv' \
    "$work"/BenchmarkDotNet.Artifacts/results/*WireGuardBenchmarks*full-compressed.json |
  awk -F'\t' '
    $1 == "Handshake" { printf "handshakes per second, one core: %.0f (%.1f us each, %d bytes allocated per handshake)\n", 1e9 / $2, $2 / 1000, $3 }
    $1 == "Transport_packet_seal_and_open" { printf "per 1392-byte packet, seal + open + replay check: %.2f us, %d bytes allocated\n", $2 / 1000, $3 }'
fi
