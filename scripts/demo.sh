#!/usr/bin/env bash
# The README's demo command: builds tuntap and runs `tuntap demo` (needs root: it creates and removes
# a network namespace of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "error: the demo creates a network namespace and TUN/TAP devices; run it as root: sudo $0" >&2
  exit 1
fi
command -v ping >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq iputils-ping >/dev/null; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/TunTap.Cli -c Release -nologo -v quiet
exec dotnet src/TunTap.Cli/bin/Release/net10.0/tuntap.dll demo "$@"
