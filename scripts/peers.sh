#!/usr/bin/env bash
# Installs the real protocol peers the tests run against (Debian packages).
# Idempotent: only missing packages are installed, and what will be installed is printed
# first. Without root or apt-get, or with KANRI_TEST_NO_APT=1, it installs nothing and
# prints what is missing; the tests that need those peers then skip loudly.
set -u
declare -A want=(
  [ipmi_sim]=openipmi
  [ipmitool]=ipmitool
  [ipmi-power]=freeipmi-tools
  [sshd]=openssh-server
  [ssh-keygen]=openssh-client
  [haproxy]=haproxy
  [ovsdb-server]=openvswitch-switch
  [ovs-vsctl]=openvswitch-switch
  [tgtd]=tgt
  [tgtadm]=tgt
  [snmpd]=snmpd
  [snmpget]=snmp
  [libvirtd]=libvirt-daemon
  [virsh]=libvirt-clients
  [nc]=netcat-openbsd
  [socat]=socat
  [groff]=groff-base
  [snmptrap]=snmp
  [snmptrapd]=snmptrapd
  [openssl]=openssl
  [redfishtool]=redfishtool
  [curl]=curl
  # libpq's headers and pg_config: npm's libpq (the PostgreSQL store's client) builds against them.
  [pg_config]=libpq-dev
  [socat]=socat
  [ip]=iproute2
  [upsd]=nut-server
  [ping]=iputils-ping
  [upsc]=nut-client
  [chromium]=chromium
)
# Python peers are modules of Debian's interpreter, not commands on PATH: the mail peer, and
# what the Redfish peers (../shared/peers/redfish: sushy-tools, the DMTF mockup server) import.
declare -A want_py=(
  [aiosmtpd]=python3-aiosmtpd
  [flask]=python3-flask
  [requests]=python3-requests
  [tenacity]=python3-tenacity
  [bcrypt]=python3-bcrypt
  [webob]=python3-webob
  [libvirt]=python3-libvirt
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/bin/$cmd" ] || [ -x "/usr/sbin/$cmd" ] || missing+=("${want[$cmd]}")
done
# The PostgreSQL server is not on PATH: Debian keeps it under /usr/lib/postgresql/<major>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# libfaketime, preloaded by the tests whose manager's clock runs ahead (test/managers.test.ts).
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || missing+=(libfaketime)
for mod in "${!want_py[@]}"; do
  /usr/bin/python3 -c "import $mod" >/dev/null 2>&1 || missing+=("${want_py[$mod]}")
done
[ ${#missing[@]} -eq 0 ] && { echo "peers: all present"; exit 0; }
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "${KANRI_TEST_NO_APT:-}" = 1 ]; then
  echo "peers: MISSING (KANRI_TEST_NO_APT=1: not installing): $pkgs -- tests needing them will be SKIPPED and counted" >&2
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "peers: installing Debian packages with apt-get as root (KANRI_TEST_NO_APT=1 skips this): $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null || {
    echo "peers: apt-get install failed for: $pkgs" >&2; exit 1; }
else
  echo "peers: MISSING (not root or no apt-get): $pkgs -- tests needing them will be SKIPPED and counted" >&2
fi
exit 0
