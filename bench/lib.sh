# Shared by the end-to-end benchmarks (bench/*.sh): source it after `cd` to the repository root.
# Installing missing tools, namespaces and the veth between two of them, stopping background
# processes, removing namespaces, waiting for a ping, and the median of a list of numbers.

# bench_require COMMAND[=PACKAGE]...: installs (apt) the package of every command that is missing
# (the package is named like the command unless given).
bench_require() {
  local need=() spec
  for spec in "$@"; do
    command -v "${spec%%=*}" >/dev/null || need+=("${spec#*=}")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# A random 6-hex-digit suffix for namespace and device names.
bench_suffix() { head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# bench_add_namespaces NS...: creates each namespace with loopback up and IPv6 off (only what the
# benchmark sends crosses its links: no autoconfiguration chatter).
bench_add_namespaces() {
  local ns
  for ns in "$@"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
}

# bench_veth NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B: a veth pair between two namespaces, addressed and up.
bench_veth() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

# bench_stop PID...: SIGTERM (a background job of a script ignores SIGINT), up to 10 s to exit, then SIGKILL.
bench_stop() {
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}

# bench_kill_netns NS...: kills whatever still runs in the namespaces (forked daemons, servers).
bench_kill_netns() {
  local ns
  for ns in "$@"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
}

# bench_remove_namespaces NS...: kills what runs in them and deletes them (missing ones are fine).
bench_remove_namespaces() {
  local ns
  for ns in "$@"; do
    bench_kill_netns "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
}

# bench_wait_ping NS TARGET: succeeds once TARGET answers a ping from NS (up to about 10 s).
bench_wait_ping() {
  for _ in $(seq 100); do
    ip netns exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# Busy and total jiffies of all CPUs so far (from /proc/stat).
cpu_jiffies() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

# The median of the numbers on stdin (space or newline separated; the lower middle one of an even
# count); 0 when there are none.
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR==0) ? 0 : a[int((NR+1)/2)]}'; }

# bench_iperf SERVER_NS CLIENT_NS ADDRESS CORES_FILE SECONDS [iperf3 client options...]: one iperf3
# TCP transfer of SECONDS from CLIENT_NS to ADDRESS in SERVER_NS (the client starts once the server
# says it listens); prints the Gbit/s received and appends the busy cores of the whole machine
# during the transfer to CORES_FILE.
bench_iperf() {
  local server_ns=$1 client_ns=$2 address=$3 cores_file=$4 secs=$5
  shift 5
  local log srv gbps before after
  log=$(mktemp /tmp/tt-iperf-XXXXXX)
  ip netns exec "$server_ns" timeout $((secs + 30)) iperf3 -s -1 -B "$address" --forceflush >"$log" 2>&1 &
  srv=$!
  for _ in $(seq 100); do grep -q "Server listening" "$log" 2>/dev/null && break; sleep 0.1; done
  before=$(cpu_jiffies)
  gbps=$(ip netns exec "$client_ns" timeout $((secs + 25)) iperf3 -c "$address" -t "$secs" -J "$@" 2>/dev/null \
    | jq -r '.end.sum_received.bits_per_second // 0 | . / 1e9 | . * 1000 | round / 1000' || echo 0)
  after=$(cpu_jiffies)
  awk -v b="$before" -v a="$after" -v n="$(nproc)" 'BEGIN { split(b, x, " "); split(a, y, " ");
    t = y[2] - x[2]; printf "%.2f\n", (t > 0 ? (y[1] - x[1]) / t * n : 0) }' >>"$cores_file"
  wait "$srv" 2>/dev/null || true
  rm -f "$log"
  echo "${gbps:-0}"
}
