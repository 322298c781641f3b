#!/bin/bash
# A lab of real peers for kanri, on this host only: network namespaces this script creates
# (named kanri-lab-<id>-*), never another address. Each "physical machine" is a namespace
# with one interface (eth0, on the lab switch namespace's bridge) and an sshd on its address;
# its BMC is an OpenIPMI ipmi_sim on 127.0.0.1 whose chassis program powers that interface
# up and down and obeys ACPI soft-off. Beside them: libvirtd (test driver) VM servers, HAProxy
# (runtime API on a unix socket), ovsdb-server, tgtd, snmptrapd and an SMTP server (aiosmtpd).
# It writes a data centre (lab.yaml) that names no sim driver, and lab.env with the ports.
#
#   scripts/lab.sh up [DIR]     start (DIR: default /tmp/kanri-lab); prints DIR
#   scripts/lab.sh down [DIR]   stop everything it started, delete its namespaces and DIR
#   scripts/lab.sh status [DIR]
#
# Bounded: every wait has a limit; down kills only the processes whose pids it recorded and
# deletes only the namespaces named in DIR/namespaces.
set -euo pipefail

cmd=${1:-}
DIR=${2:-${KANRI_LAB_DIR:-/tmp/kanri-lab}}
MACHINES=${KANRI_LAB_MACHINES:-3}
VMSERVERS=${KANRI_LAB_VMSERVERS:-2}

die() { echo "lab: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"

free_port() { # tcp|udp
  python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=='udp' else socket.SOCK_STREAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}

# Starts a command in the background, its output in DIR/log/NAME.log, its pid recorded.
spawn() { # name cmd...
  local name=$1; shift
  setsid "$@" >"$DIR/log/$name.log" 2>&1 < /dev/null &
  echo "$! $name" >> "$DIR/pids"
}

wait_for() { # what seconds test-command...
  local what=$1 s=$2; shift 2
  local until=$((SECONDS + s))
  while [ $SECONDS -lt $until ]; do
    if declare -F "$1" >/dev/null; then
      if "$@" >/dev/null 2>&1; then return 0; fi
    elif timeout 5 "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "$what did not come up within ${s}s (logs in $DIR/log)"
}

down() {
  [ -d "$DIR" ] || return 0
  if [ -f "$DIR/pids" ]; then
    # Process groups first (setsid made each its own), then anything left, by recorded pid only.
    while read -r pid _; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done < "$DIR/pids"
    for _ in $(seq 1 50); do
      alive=0
      while read -r pid _; do kill -0 "$pid" 2>/dev/null && alive=1; done < "$DIR/pids"
      [ $alive = 0 ] && break
      sleep 0.1
    done
    while read -r pid _; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done < "$DIR/pids"
  fi
  if [ -f "$DIR/namespaces" ]; then
    while read -r ns; do
      case $ns in kanri-lab-*) ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true ;; esac
    done < "$DIR/namespaces"
  fi
  if [ -f "$DIR/files" ]; then
    while read -r f; do case $f in /var/run/tgtd/socket.*) rm -f "$f" ;; esac; done < "$DIR/files"
  fi
  rm -rf "$DIR"
}

status() {
  [ -f "$DIR/lab.env" ] || { echo "lab: not running in $DIR"; return 1; }
  cat "$DIR/lab.env"
  while read -r pid name; do printf '%-14s %s\n' "$name" "$(kill -0 "$pid" 2>/dev/null && echo running || echo gone)"; done < "$DIR/pids"
}

up() {
  [ -e "$DIR" ] && die "$DIR exists: run scripts/lab.sh down $DIR first"
  mkdir -p "$DIR/log"
  chmod 700 "$DIR"
  : > "$DIR/pids"
  : > "$DIR/namespaces"
  : > "$DIR/files"
  started=0
  trap '[ $started = 1 ] || [ -n "${KANRI_LAB_KEEP:-}" ] || { echo "lab: start failed; cleaning up" >&2; down; }' EXIT
  local id; id=$(printf '%04x' $((RANDOM % 65536)))
  local net=$((RANDOM % 200 + 20))
  local sw="kanri-lab-$id-sw"
  echo "$sw" >> "$DIR/namespaces"
  ip netns add "$sw"
  ip -n "$sw" link set lo up
  ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set br0 up
  ip -n "$sw" addr add "10.77.$net.254/24" dev br0

  # One key for every lab sshd (root logins with it only), and host keys per machine.
  ssh-keygen -q -t ed25519 -N '' -C kanri-lab -f "$DIR/id_ed25519"
  local env="$DIR/lab.env"
  { echo "KANRI_LAB_DIR=$DIR"; echo "KANRI_LAB_ID=$id"; echo "KANRI_LAB_SWITCH_NS=$sw"; echo "KANRI_LAB_NET=10.77.$net"; } > "$env"

  local machines_yaml="" bmcs=""
  local i
  for ((i = 1; i <= MACHINES; i++)); do
    local name="m$i"
    local ns="kanri-lab-$id-m$i" addr="10.77.$net.$((10 + i))" d="$DIR/m$i"
    mkdir -p "$d"
    echo "$ns" >> "$DIR/namespaces"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "kl$id$i" type veth peer name eth0 netns "$ns"
    ip link set "kl$id$i" netns "$sw"
    ip -n "$sw" link set "kl$id$i" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    # Powered off: the interface is down until the BMC powers the machine on.
    ip -n "$ns" link set eth0 down
    echo 0 > "$d/power"
    # The BMC's chassis program: power is the namespace's interface; soft-off takes it down too.
    cat > "$d/chassis.sh" <<EOF
#!/bin/sh
d=\$1; shift; op=\$1; shift
case \$op in
get) for p in "\$@"; do case \$p in power) read v < "\$d/power"; echo "power:\$v" ;; boot) echo "boot:default" ;; esac; done ;;
set)
  while [ \$# -gt 1 ]; do
    p=\$1; v=\$2; shift 2
    case \$p in
      power) echo "\$v" > "\$d/power"; if [ "\$v" = 1 ]; then ip -n $ns link set eth0 up; else ip -n $ns link set eth0 down; fi; echo "power \$v" >> "\$d/control.log" ;;
      shutdown) echo 0 > "\$d/power"; ip -n $ns link set eth0 down; echo "soft-off" >> "\$d/control.log" ;;
      reset) echo "reset \$v" >> "\$d/control.log" ;;
      identify|boot) echo "\$p \$v" >> "\$d/control.log" ;;
    esac
  done ;;
*) exit 1 ;;
esac
exit 0
EOF
    chmod 755 "$d/chassis.sh"
    local bport; bport=$(free_port udp)
    # The BMC's GUID is the machine's UUID: its PET traps name the machine.
    local uuid; uuid=$(cat /proc/sys/kernel/random/uuid)
    local pw; pw=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 12)
    printf '%s' "$pw" > "$d/bmc-password"; chmod 600 "$d/bmc-password"
    cat > "$d/lan.conf" <<EOF
name "kanri-lab-$name"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $bport
    priv_limit admin
    allowed_auths_callback none md5
    allowed_auths_user md5
    allowed_auths_operator md5
    allowed_auths_admin md5
    guid $(echo "$uuid" | tr -d '-')
  endlan
  chassis_control "$d/chassis.sh $d"
  user 2 true "admin" "$pw" admin 10 md5
EOF
    printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n' > "$d/sim.emu"
    spawn "bmc-$name" ipmi_sim -c "$d/lan.conf" -f "$d/sim.emu" -s "$d" -n
    # sshd inside the namespace, on the machine's address; reached from here through a forwarder
    # on 127.0.0.1 that enters the namespace (so a machine that is off does not answer).
    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/host_key"
    cp "$DIR/id_ed25519.pub" "$d/authorized_keys"
    cat > "$d/sshd_config" <<EOF
ListenAddress $addr:22
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
    mkdir -p /run/sshd
    spawn "sshd-$name" ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$d/sshd_config"
    local sport; sport=$(free_port tcp)
    spawn "fwd-$name" socat "TCP-LISTEN:$sport,bind=127.0.0.1,reuseaddr,fork" "EXEC:ip netns exec $ns socat STDIO TCP\\:$addr\\:22"
    { echo "KANRI_LAB_${name^^}_NS=$ns"; echo "KANRI_LAB_${name^^}_ADDR=$addr"; echo "KANRI_LAB_${name^^}_BMC_PORT=$bport"; echo "KANRI_LAB_${name^^}_SSH_PORT=$sport"; } >> "$env"
    machines_yaml+="  - { name: $name, kind: physical, uuid: $uuid, power: off, mgmt_address: $addr, os_address: 127.0.0.1, ssh_port: $sport, ssh_user: root, ssh_key_path: $DIR/id_ed25519 }"$'\n'
    bmcs+="$name 127.0.0.1 $bport $d/bmc-password $uuid"$'\n'
  done
  printf '%s' "$bmcs" > "$DIR/bmcs"

  # VM servers: one libvirtd (test driver) each, on a socket of its own.
  local servers_yaml=""
  for ((i = 1; i <= VMSERVERS; i++)); do
    local d="$DIR/vs$i"
    mkdir -p "$d/run" "$d/drivers"
    printf 'unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' "$d/run" > "$d/libvirtd.conf"
    spawn "libvirtd-vs$i" env LIBVIRT_DRIVER_DIR="$d/drivers" /usr/sbin/libvirtd --config "$d/libvirtd.conf" --pid-file "$d/libvirtd.pid"
    local uri="test+unix:///default?socket=$d/run/libvirt-sock"
    wait_for "libvirtd vs$i" 15 virsh -q -c "$uri" uri
    # The test driver forgets its state with its last connection: one connection held open.
    spawn "libvirt-hold-vs$i" virsh -q -c "$uri" event --all --loop
    # The test driver's own domain "test" holds nearly all of its memory: the lab's VMs need it.
    # (Until the holding connection is up, a change is forgotten again: tried until it stays.)
    gone_test() {
      virsh -q -c "$1" destroy test >/dev/null 2>&1 || true
      virsh -q -c "$1" undefine test >/dev/null 2>&1 || true
      ! virsh -q -c "$1" list --all --name | grep -qx test
    }
    wait_for "libvirtd vs$i without its test domain" 15 gone_test "$uri"
    echo "KANRI_LAB_VS${i}_URI=$uri" >> "$env"
    servers_yaml+="  - { name: vs$i, kind: vmserver, power: on, capacity: 100, datastores: [{ name: default-pool, shared: true }], driver_settings: { libvirt: { uri: \"$uri\" } }, active: { group: Hosts, model: kvm, host: h$i, from: master } }"$'\n'
  done

  # HAProxy: the runtime API on a unix socket, one backend for the Web group.
  cat > "$DIR/haproxy.cfg" <<EOF
global
  stats socket $DIR/haproxy.sock level admin
  stats timeout 1m
defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s
backend web
  balance roundrobin
frontend fe
  bind unix@$DIR/haproxy-fe.sock
  default_backend web
EOF
  spawn haproxy haproxy -f "$DIR/haproxy.cfg" -db
  echo "KANRI_LAB_HAPROXY_SOCKET=$DIR/haproxy.sock" >> "$env"

  # ovsdb-server with the Open vSwitch schema (the vlan driver's peer).
  ovsdb-tool create "$DIR/ovs.db" /usr/share/openvswitch/vswitch.ovsschema
  spawn ovsdb-server ovsdb-server "$DIR/ovs.db" "--remote=punix:$DIR/ovsdb.sock" "--unixctl=$DIR/ovsdb-ctl.sock" --no-chdir
  echo "KANRI_LAB_OVSDB_SOCKET=$DIR/ovsdb.sock" >> "$env"

  # tgtd on its own management port, portal on loopback.
  # Its control "port" names its management socket (/var/run/tgtd/socket.N), not a network port.
  local tport
  for _ in $(seq 1 20); do
    tport=$((10000 + RANDOM % 22000))
    [ -e "/var/run/tgtd/socket.$tport" ] || [ -e "/var/run/tgtd/socket.$tport.lock" ] || break
  done
  printf '/var/run/tgtd/socket.%s\n/var/run/tgtd/socket.%s.lock\n' "$tport" "$tport" >> "$DIR/files"
  spawn tgtd tgtd -f -C "$tport" --iscsi portal=127.0.0.1:0
  echo "KANRI_LAB_TGTD_CONTROL_PORT=$tport" >> "$env"

  # snmptrapd (logs every trap) and an SMTP server keeping mails in a Maildir.
  local trap; trap=$(free_port udp)
  printf 'disableAuthorization yes\n' > "$DIR/snmptrapd.conf"
  spawn snmptrapd snmptrapd -f -C -c "$DIR/snmptrapd.conf" -Lf "$DIR/traps.log" "udp:127.0.0.1:$trap"
  echo "KANRI_LAB_TRAP_PORT=$trap" >> "$env"
  local smtp; smtp=$(free_port tcp)
  # (aiosmtpd's Mailbox makes the Maildir itself: an empty folder in its place would not do.)
  spawn smtp /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$smtp" -c aiosmtpd.handlers.Mailbox "$DIR/mail"
  echo "KANRI_LAB_SMTP_PORT=$smtp" >> "$env"

  wait_for haproxy 10 test -S "$DIR/haproxy.sock"
  wait_for ovsdb-server 10 ovs-vsctl "--db=unix:$DIR/ovsdb.sock" --no-wait --timeout=2 show
  wait_for tgtd 10 tgtadm -C "$tport" --lld iscsi --op show --mode target
  ovs-vsctl "--db=unix:$DIR/ovsdb.sock" --no-wait --timeout=5 add-br br0
  for ((i = 1; i <= MACHINES; i++)); do
    ovs-vsctl "--db=unix:$DIR/ovsdb.sock" --no-wait --timeout=5 add-port br0 "m$i-eth0"
    wait_for "the BMC of m$i" 10 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$(grep "^m$i " "$DIR/bmcs" | cut -d' ' -f3)" -U admin -f "$DIR/m$i/bmc-password" -N 1 -R 1 chassis power status
  done

  # The data centre: real drivers only (no sim).
  local hosts="" k
  for ((k = 1; k <= MACHINES; k++)); do hosts+="      - { host: web0$k, nics: [{ addresses: [{ ip: 10.77.$net.$((100 + k)), netmask: 255.255.255.0 }] }] }"$'\n'; done
  local pool; pool=$(seq -s ', ' -f 'm%g' 1 "$MACHINES")
  cat > "$DIR/lab.yaml" <<EOF
kanri: 1
settings:
  ipmi.on_wait_s: "15"
  ipmi.soft_off_wait_s: "15"
  ipmi.deadline_s: "3"
  vm.shutdown_timeout_s: "5"
  libvirt.watch_interval_s: "1"
  haproxy.socket: "unix:$DIR/haproxy.sock"
  monitor.listen: "127.0.0.1:0"
  # Every lab BMC sends from 127.0.0.1: a trap from there is named by its PET GUID.
  monitor.trap_relays: "127.0.0.1"
  monitor.poll_s: "2"
  monitor.poll_failures: "2"
  monitor.poll_timeout_s: "1"
  mail.smtp_host: 127.0.0.1
  mail.smtp_port: "$smtp"
  mail.from: kanri@lab.test
  mail.to: ops@lab.test
software:
  - { name: T, kind: template, cost: 10, source: $DIR/vm-template.xml }
  # Run over SSH on the machine: it takes its host setting's address (and answers on it).
  - { name: SetIP, kind: scenario, version: "1", date: "2026-01-01", source: "ip addr replace \$PVM_IP_ADDRESS_1_1/24 dev eth0" }
policies:
  # A CPU fault its BMC reports (a PET) replaces the machine from the pool.
  - name: LabWeb
    template: 標準ポリシー
    rules:
      - { event: CPU障害, triggers: [{ source: SystemMonitorEvent, category: CPU障害 }], action_name: マシン置換, actions: [notify, status-faulted, machine-replace] }
  # A VM server whose hypervisor stops answering has its running VMs moved.
  - name: LabVMS
    template: 標準ポリシー (仮想マシンサーバ)
    rules:
      - { event: VMSアクセス不可, triggers: [{ source: VMwareProvider, event: "Alarm Host connection state on VMS changed from green to red" }], action_name: 退避, actions: [vms-failover-all] }
groups:
  - name: Web
    type: physical
    policy: LabWeb
    load_balancer: web
    drivers: { power: ipmi, deploy: ssh, lb: haproxy }
    software: { activation: [SetIP] }
    driver_settings: { haproxy: { port: "80" } }
    models: [{ name: M }]
    host_settings:
$hosts    pool: [$pool]
  - name: AP
    type: physical
    drivers: { power: ipmi, deploy: ssh }
    software: { activation: [SetIP] }
    models: [{ name: M }]
    host_settings:
      - { host: ap01, nics: [{ addresses: [{ ip: 10.77.$net.121, netmask: 255.255.255.0 }] }] }
    pool: [$pool]
  - name: Hosts
    type: vmserver
    policy: LabVMS
    drivers: { vm: libvirt }
    models: [{ name: kvm }]
    host_settings: [$(seq -s ', ' -f '{ host: h%g }' 1 "$VMSERVERS")]
  - name: VMs
    type: virtual
    template: T
    drivers: { vm: libvirt, power: libvirt, deploy: local }
    models: [{ name: vm, vm_server_model: Hosts/kvm }]
    host_settings: [{ host: v1 }, { host: v2 }, { host: v3 }]
machines:
$machines_yaml$servers_yaml
EOF
  cat > "$DIR/vm-template.xml" <<'EOF'
<domain type="test">
  <name>template</name>
  <memory unit="KiB">256</memory>
  <vcpu>1</vcpu>
  <os><type arch="i686">hvm</type></os>
  <devices>
    <disk type="file" device="disk"><source file="/shared/{name}.img"/><target dev="vda" bus="virtio"/></disk>
    <interface type="network"><source network="default"/></interface>
  </devices>
</domain>
EOF
  started=1
  echo "$DIR"
}

case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: scripts/lab.sh up|down|status [DIR]" >&2; exit 2 ;;
esac
