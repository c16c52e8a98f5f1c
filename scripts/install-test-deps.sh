#!/usr/bin/env bash
# Installs the Debian packages the tests and demos use. Idempotent; needs root.
set -euo pipefail
packages=(iproute2 iputils-ping tshark python3-scapy iperf3 procps kmod wireguard-go wireguard-tools)
# Switch DHCP and VM tests: busybox udhcpc in namespaces and in a QEMU guest booted from the Debian kernel.
packages+=(busybox-static qemu-system-x86 linux-image-amd64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing packages: ${missing[*]}; run this script as root (sudo) to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The tun module is built in or loadable on Debian kernels; make sure the device node exists.
if [ ! -e /dev/net/tun ]; then
  modprobe tun 2>/dev/null || true
  if [ ! -e /dev/net/tun ]; then
    mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 0666 /dev/net/tun
  fi
fi
