#!/usr/bin/env bash
# The README's demo command: builds tuntap and runs `tuntap demo` (responder, tunnel, WireGuard, emulated
# link). Needs root: it creates and removes two network namespaces of its own; needs ping and iperf3,
# which it installs if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the demo creates a network namespace and TUN/TAP devices; run it as root: sudo $0" >&2
  exit 1
fi
need=()
command -v ping >/dev/null || need+=(iputils-ping)
command -v iperf3 >/dev/null || need+=(iperf3)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/TunTap.Cli -c Release -nologo -v quiet
exec dotnet src/TunTap.Cli/bin/Release/net10.0/tuntap.dll demo "$@"
