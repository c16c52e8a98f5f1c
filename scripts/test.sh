#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds with zero warnings, runs every test.
# Run as root: the integration tests create network namespaces and TUN/TAP devices (and remove them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build TunTap.sln -c Release -warnaserror -nologo -v quiet
# Fuzz smoke: every parser harness gets its corpus and 20,000 random and mutated inputs (seeded).
for target in responder pcap netlink tunnel-frame link-spec control-text topology; do
  dotnet fuzz/TunTap.Fuzz/bin/Release/net10.0/TunTap.Fuzz.dll "$target" --random 20000 --seed 1
done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test --solution TunTap.sln -c Release --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain closing line: 'N passed, N failed, N skipped'.
awk '/^  (succeeded|failed|skipped):/ {gsub(":","",$1); t[$1]+=$2} END {printf "%d passed, %d failed, %d skipped\n", t["succeeded"], t["failed"], t["skipped"]}' "$log"
exit "$rc"
