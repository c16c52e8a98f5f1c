#!/usr/bin/env bash
# iperf3 (one TCP stream) through `tuntap tunnel`, through vtund (Debian's vtun, the classic
# tunnel daemon, same modes, no compression or encryption) and directly over the veth underlay,
# all in one run on this machine, run by run in turn (each row measures the veth again beside
# its tunnels). Prints Gbit/s (median of --runs) and the ratios tuntap/vtun and tuntap/veth.
# Absolute numbers on a shared machine are noise; the ratios are the result. It also prints how
# many CPU cores were busy (whole machine, from /proc/stat) during each transfer and the Gbit/s
# per busy core: when the veth already keeps every core busy, a tunnel (which adds a second TCP
# stack and two device copies per byte) is bounded by its cost per byte, and that column shows it.
#
# Usage: sudo bench/tunnel.sh [--runs N] [--seconds S] [--omit S] [--modes "tun tap"] [--transports "tcp udp"]
#                             [--tools "tuntap vtun"] [--tuntap-options "OPTIONS"] [--iperf-options "OPTIONS"]
# --omit S (default 1, as in bench/wg.sh) leaves each transfer's first S seconds out of the result
# for every tool alike (iperf3 -O: TCP slow start, and the JIT warming up in a fresh tuntap process).
# --tuntap-options adds options to both `tuntap tunnel` ends, e.g. "--congestion-control bbr"
# to compare with the default (cubic) in the same run of vtund and the veth.
# --iperf-options adds options to every iperf3 client (veth, vtund and tuntap alike), e.g.
# "-C cubic" for the measured stream's congestion control instead of the system's default.
# Everything runs in two namespaces tt-bench-*-XXXX connected by a veth; they are removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

runs=3 seconds=5 omit=1 modes="tun tap" transports="tcp udp" tools="tuntap vtun" tuntap_options=() iperf_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --omit) omit=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --transports) transports=$2; shift 2 ;;
    --tools) tools=$2; shift 2 ;;
    --tuntap-options) read -r -a tuntap_options <<<"$2"; shift 2 ;;
    --iperf-options) read -r -a iperf_options <<<"$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: needs root (namespaces, TUN/TAP devices): sudo $0" >&2; exit 1; }

bench_require iperf3 vtund=vtun jq

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ " $tools " == *" tuntap "* ]]; then dotnet build src/TunTap.Cli -c Release -nologo -v quiet >/dev/null; fi
tuntap=(dotnet "$PWD/src/TunTap.Cli/bin/Release/net10.0/tuntap.dll")

suffix=$(bench_suffix)
S=tt-bench-s-$suffix C=tt-bench-c-$suffix
work=$(mktemp -d /tmp/tt-bench-XXXXXX)
pids=()

stop_all() {
  bench_stop "${pids[@]}"
  pids=()
  # vtund forks its session process; ip netns pids finds whatever is left in the namespaces.
  bench_kill_netns "$S" "$C"
}
cleanup() {
  stop_all
  bench_remove_namespaces "$S" "$C"
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# IPv6 off: vtund exits when the peer's first packet (a router solicitation) reaches its device
# before its 'up' script ran (write gives EIO).
bench_add_namespaces "$S" "$C"
bench_veth "$S" tt-u0 192.168.77.1/24 "$C" tt-u1 192.168.77.2/24

cores=$(nproc)

# iperf TOOL SERVER_ADDR: iperf3 from C to SERVER_ADDR; prints Gbit/s received and appends the
# busy cores to $work/cores-TOOL.
iperf() { bench_iperf "$S" "$C" "$2" "$work/cores-$1" "$seconds" -O "$omit" "${iperf_options[@]}"; }

# take_cores TOOL: the median of TOOL's busy-core samples taken since the last call (and forget them).
take_cores() { median <"$work/cores-$1" | tr -d '\n'; : >"$work/cores-$1"; }

wait_ping() { bench_wait_ping "$C" 10.66.0.1; }

start_tuntap() {
  local mode=$1 transport=$2
  "${tuntap[@]}" tunnel tt-t0 --mode "$mode" --transport "$transport" --listen 192.168.77.1:5001 \
    --address 10.66.0.1/24 --netns "$S" --stats-interval 0 "${tuntap_options[@]}" >"$work/tuntap-s.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  "${tuntap[@]}" tunnel tt-t0 --mode "$mode" --transport "$transport" --connect 192.168.77.1:5001 \
    --address 10.66.0.2/24 --netns "$C" --stats-interval 0 "${tuntap_options[@]}" >"$work/tuntap-c.log" 2>&1 &
  pids+=($!)
}

start_vtun() {
  local mode=$1 transport=$2 type=tun
  [ "$mode" = tap ] && type=ether
  for side in s c; do
    local addr=10.66.0.1/24
    [ "$side" = c ] && addr=10.66.0.2/24
    cat >"$work/vtun-$side.conf" <<EOF
options {
  port 5000;
  syslog daemon;
  ip /sbin/ip;
}
ttbench {
  passwd ttbench;
  type $type;
  proto $transport;
  compress no;
  encrypt no;
  keepalive no;
  stat no;
  up {
    ip "link set %% up";
    ip "addr add $addr dev %%";
  };
}
EOF
  done
  ip netns exec "$S" vtund -s -n -f "$work/vtun-s.conf" -P 5000 >"$work/vtun-s.log" 2>&1 &
  pids+=($!)
  sleep 0.5
  ip netns exec "$C" vtund -n -f "$work/vtun-c.conf" ttbench 192.168.77.1 >"$work/vtun-c.log" 2>&1 &
  pids+=($!)
}

# run_tool TOOL MODE TRANSPORT: one transfer through a fresh TOOL tunnel; prints its Gbit/s (0
# when the tunnel did not come up).
run_tool() {
  local tool=$1 mode=$2 transport=$3 result=0
  "start_$tool" "$mode" "$transport"
  if wait_ping; then
    result=$(iperf "$tool" 10.66.0.1)
  else
    echo "warning: $tool $mode/$transport did not come up; logs:" >&2
    tail -n 5 "$work"/"$tool"-*.log >&2 || true
  fi
  stop_all
  sleep 0.3
  echo "$result"
}

uses() { [[ " $tools " == *" $1 "* ]]; }

# Every row measures the veth again, run by run in turn with the tunnels (veth, tuntap, vtund,
# veth, ...): the machine's other load drifts over minutes, and a ratio is only as good as the
# reference measured beside it.
printf '\n%-5s %-9s %10s %10s %10s %12s %12s %14s %14s %14s\n' mode transport tuntap vtun veth tuntap/vtun tuntap/veth "cores(t/v)" "Gbit/core(t/v)" "t/veth by run"
for mode in $modes; do
  for transport in $transports; do
    printf 'measuring %s/%s (veth and tunnels in turn, %s runs x %ss)...\n' "$mode" "$transport" "$runs" "$seconds" >&2
    veth_runs=() ours_runs=() theirs_runs=()
    for _ in $(seq "$runs"); do
      veth_runs+=("$(iperf veth 192.168.77.1)")
      if uses tuntap; then ours_runs+=("$(run_tool tuntap "$mode" "$transport")"); fi
      if uses vtun; then theirs_runs+=("$(run_tool vtun "$mode" "$transport")"); fi
    done
    veth=$(echo "${veth_runs[*]}" | median) veth_cores=$(take_cores veth)
    ours=$(echo "${ours_runs[*]:-0}" | median) ours_cores=0 theirs=$(echo "${theirs_runs[*]:-0}" | median)
    if uses tuntap; then ours_cores=$(take_cores tuntap); fi
    # Each run's tuntap/veth from the two transfers measured one after the other: the spread
    # shows how much a ratio moves from run to run on this machine.
    awk -v m="$mode" -v t="$transport" -v a="$ours" -v b="$theirs" -v v="$veth" -v ac="$ours_cores" -v vc="$veth_cores" \
      -v os="${ours_runs[*]:-}" -v vs="${veth_runs[*]}" 'BEGIN {
      n = split(os, o, " "); split(vs, w, " "); lo = ""; hi = ""
      for (i = 1; i <= n; i++) if (w[i] > 0) { r = o[i] / w[i]; if (lo == "" || r < lo) lo = r; if (hi == "" || r > hi) hi = r }
      printf "%-5s %-9s %10.3f %10.3f %10.3f %12s %12s %14s %14s %14s\n", m, t, a, b, v,
        (b > 0 ? sprintf("%.2fx", a / b) : "n/a"), (v > 0 ? sprintf("%.2fx", a / v) : "n/a"),
        sprintf("%.2f/%.2f", ac, vc), sprintf("%.2f/%.2f", (ac > 0 ? a / ac : 0), (vc > 0 ? v / vc : 0)),
        (lo == "" ? "n/a" : sprintf("%.2f-%.2fx", lo, hi)) }'
  done
done
echo "(Gbit/s, iperf3 one TCP stream${iperf_options[*]:+ with ${iperf_options[*]}}, median of $runs runs of ${seconds}s after ${omit}s left out; cores: busy CPUs of $cores during the transfer)"
