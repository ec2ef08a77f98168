#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, built from source and started as
# plain processes: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, CoreDNS
# (cluster DNS on the node IP, port 53), containerd + runc + CNI, kubelet and kube-proxy.
#
#   scripts/cluster.sh up [--stock]  start it (or do nothing when it is already up). The API
#                                    server turns on MutatingAdmissionPolicy (beta, off by
#                                    default in 1.34), which ktf uses when it is there;
#                                    --stock starts it with no extra feature gates or APIs, as
#                                    a cluster out of the box (a running one is switched)
#   scripts/cluster.sh down          stop everything it started and remove the cluster's data
#   scripts/cluster.sh status        exit 0 when it is up and the node is Ready
#   scripts/cluster.sh user NAME [GROUP...]
#                                    mint a kubeconfig for a user with a client certificate
#   scripts/cluster.sh env           print KUBECONFIG=... and KUBECTL=... for scripts and tests
#   scripts/cluster.sh load-image TARBALL...
#                                    import docker-archive images into the cluster's containerd
#
# The admin kubeconfig is $KTF_CACHE/cluster/admin.kubeconfig. Images come from
# scripts/build-images.sh: no registry is reachable, so the pods use local images only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

CLUSTER=$KTF_CACHE/cluster
PKI=$CLUSTER/pki
LOGS=$CLUSTER/logs
RUN_DIR=/run/ktf
DATA=/var/lib/ktf
CONTAINERD_SOCK=$RUN_DIR/containerd/containerd.sock
KUBELET_ROOT=$DATA/kubelet
K8S_BIN=$KTF_BIN_CACHE/kubernetes-$KUBERNETES_VERSION
ETCD_BIN=$KTF_BIN_CACHE/etcd-$ETCD_VERSION
COREDNS_BIN=$KTF_BIN_CACHE/coredns-$COREDNS_VERSION
ETCD_PORT=12379
API_PORT=6443
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
# The kube-dns Service's address, as in a kubeadm cluster; the kubelet points pods at the
# node IP itself, where CoreDNS listens.
DNS_SERVICE_IP=10.96.0.10
DNS_HEALTH_PORT=18080
DNS_READY_PORT=18181
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
NODE_NAME=ktf-node
PAUSE_IMAGE=localhost/ktf/pause:3.10
# What the API server serves beyond a stock 1.34: set by `up --stock`, kept in $CLUSTER/api-flavor.
API_FLAVOR=gated
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler coredns containerd kubelet kube-proxy)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The address pods reach the API server on (through the kubernetes Service): the IP of
# the interface that holds the default route.
node_ip() {
  local ip
  ip=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -nE 's/.* src ([0-9.]+).*/\1/p' | head -n1)
  [ -n "$ip" ] || ip=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$ip" ] || die "cannot find this machine's IP address (no default route)"
  echo "$ip"
}

source "$here/cluster-pki.sh"

pid_of() { cat "$CLUSTER/pids/$1" 2>/dev/null || true; }
running() { local pid; pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# start NAME BINARY ARGS...: run a component in its own session, logging to $LOGS/NAME.log.
start() {
  local name=$1; shift
  if running "$name"; then
    # A component still shutting down (killed a moment ago) must be waited for.
    healthy "$name" && return
    stop "$name"
  fi
  mkdir -p "$LOGS" "$CLUSTER/pids" "$CLUSTER/cmdline"
  printf '%s\0' "$@" >"$CLUSTER/cmdline/$name"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER/pids/$name"
}

# Where a running component answers when it is healthy.
health_url() {
  case $1 in
    etcd) echo "http://127.0.0.1:$ETCD_PORT/health" ;;
    kube-apiserver) echo "https://127.0.0.1:$API_PORT/livez" ;;
    kube-controller-manager) echo "https://127.0.0.1:10257/healthz" ;;
    kube-scheduler) echo "https://127.0.0.1:10259/healthz" ;;
    kubelet) echo "http://127.0.0.1:10248/healthz" ;;
    kube-proxy) echo "http://127.0.0.1:10256/healthz" ;;
    coredns) echo "http://127.0.0.1:$DNS_HEALTH_PORT/health" ;;
  esac
}

healthy() {
  if [ "$1" = containerd ]; then
    ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1
  else
    curl -fsS -o /dev/null --max-time 2 -k "$(health_url "$1")" 2>/dev/null
  fi
}

# wait_for WHAT SECONDS COMMAND...: poll until the command succeeds. A component that
# exits meanwhile is started again with the command line it was started with (the kubelet
# exits when containerd's CRI is still initialising).
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ -f "$CLUSTER/cmdline/$what" ] && ! running "$what"; then
      log "$what exited; starting it again"
      mapfile -d '' -t argv <"$CLUSTER/cmdline/$what"
      start "$what" "${argv[@]}"
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$what did not come up in ${secs}s; last lines of its log:"
      tail -n 20 "$LOGS/$what.log" 2>/dev/null >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

# write_file FILE: write stdin to FILE unless it already holds exactly that (kube-proxy
# exits when its configuration file changes under it).
write_file() {
  local tmp; tmp=$(mktemp)
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$CLUSTER/admin.kubeconfig" "$@"; }

write_configs() {
  mkdir -p "$CLUSTER/config" "$CLUSTER/cni/net.d" "$RUN_DIR/containerd" "$DATA"
  for c in admin controller-manager scheduler kube-proxy kubelet coredns; do
    kubeconfig "$CLUSTER/$c.kubeconfig" "$c" "$c"
  done

  write_file "$CLUSTER/config/containerd.toml" <<EOF
version = 2
root = "$DATA/containerd"
state = "$RUN_DIR/containerd/state"
[grpc]
  address = "$CONTAINERD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # This machine withholds CAP_SYS_RESOURCE: a process may not lower its OOM score below
  # containerd's own, which the kubelet asks for (-998) for every pod sandbox.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "${KTF_RUNC:-/usr/sbin/runc}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER/cni/net.d"
EOF

  write_file "$CLUSTER/cni/net.d/10-ktf.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "ktf",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "ktf-cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$DATA/cni-ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF

  write_file "$CLUSTER/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: "$PKI/ca.crt" }
authorization: { mode: Webhook }
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
containerRuntimeEndpoint: "unix://$CONTAINERD_SOCK"
# This host mounts cgroup v1 controllers (with a v2 hierarchy beside them, not in charge).
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDomain: cluster.local
clusterDNS: ["$NODE_IP"]
resolvConf: /etc/resolv.conf
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
serializeImagePulls: false
# Disk and memory headroom is the test machine's business, not the kubelet's: do not evict.
evictionHard: { memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
maxPods: 110
podLogsDir: "$DATA/pod-logs"
EOF

  write_file "$CLUSTER/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: "$CLUSTER/kube-proxy.kubeconfig" }
mode: iptables
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
# Leave the host's conntrack table size alone.
conntrack: { maxPerCore: 0 }
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
EOF

  # CoreDNS runs on the host, so forwarding to the host's resolvers works even when they
  # are loopback addresses (systemd-resolved's 127.0.0.53).
  write_file "$CLUSTER/config/Corefile" <<EOF
.:53 {
    bind $NODE_IP
    errors
    health 127.0.0.1:$DNS_HEALTH_PORT
    ready 127.0.0.1:$DNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $CLUSTER/coredns.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
EOF
}

prepare_host() {
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
    sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  fi
}

api_flavor_flags() {
  [ "$API_FLAVOR" = stock ] || echo "--feature-gates=MutatingAdmissionPolicy=true --runtime-config=admissionregistration.k8s.io/v1beta1=true"
}

running_flavor() { cat "$CLUSTER/api-flavor" 2>/dev/null || echo gated; }

start_control_plane() {
  start etcd "$ETCD_BIN/etcd" --name ktf --data-dir "$DATA/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls http://127.0.0.1:12380 --initial-advertise-peer-urls http://127.0.0.1:12380 \
    --initial-cluster ktf=http://127.0.0.1:12380 --unsafe-no-fsync=true --quota-backend-bytes=8589934592 \
    --log-level=warn
  wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"
  # Switching flavors restarts only the API server; the cluster's objects stay in etcd.
  if running kube-apiserver && [ "$(running_flavor)" != "$API_FLAVOR" ]; then log "restarting the API server ($API_FLAVOR)"; stop kube-apiserver; fi
  echo "$API_FLAVOR" >"$CLUSTER/api-flavor"

  start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" --bind-address=0.0.0.0 --secure-port=$API_PORT \
    --advertise-address="$NODE_IP" --service-cluster-ip-range=$SERVICE_CIDR --allow-privileged=true \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    $(api_flavor_flags) --event-ttl=2h --profiling=false --v=1
  wait_for kube-apiserver 90 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$API_PORT/readyz"

  start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$CLUSTER/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range=$SERVICE_CIDR --controllers='*' --v=1
  start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$CLUSTER/scheduler.kubeconfig" \
    --authentication-kubeconfig="$CLUSTER/scheduler.kubeconfig" \
    --authorization-kubeconfig="$CLUSTER/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --v=1
}

# CoreDNS's read access (the rules of kubeadm's system:coredns role) and the kube-dns
# Service users look up, pointing at CoreDNS on the node.
dns_manifests() {
  cat <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: "system:coredns" }
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "system:coredns" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns" }
subjects:
- { apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:coredns" }
---
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: { k8s-app: kube-dns, kubernetes.io/name: CoreDNS }
spec:
  clusterIP: $DNS_SERVICE_IP
  ports:
  - { name: dns, port: 53, protocol: UDP }
  - { name: dns-tcp, port: 53, protocol: TCP }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-node
  namespace: kube-system
  labels: { kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: ktf-cluster-sh }
addressType: IPv4
endpoints:
- addresses: ["$NODE_IP"]
ports:
- { name: dns, port: 53, protocol: UDP }
- { name: dns-tcp, port: 53, protocol: TCP }
EOF
}

# Whether a DNS server listens where CoreDNS would (UDP port 53 on the node IP or on all
# addresses); systemd-resolved's 127.0.0.53 is no conflict.
dns_port_taken() {
  ss -Hlnu 'sport = :53' 2>/dev/null |
    awk -v ip="$NODE_IP" '$4 == ip ":53" || $4 == "0.0.0.0:53" || $4 == "*:53" || $4 == "[::]:53" {f = 1} END {exit !f}'
}

start_dns() {
  if ! running coredns && dns_port_taken; then
    die "port 53 on $NODE_IP is taken (see ss -lunp 'sport = :53'): stop that DNS server, CoreDNS needs the port"
  fi
  dns_manifests | kubectl_admin apply -f - >/dev/null
  start coredns "$COREDNS_BIN/coredns" -conf "$CLUSTER/config/Corefile"
  # Ready once its kubernetes plugin has read the Services.
  wait_for coredns 60 curl -fsS "http://127.0.0.1:$DNS_READY_PORT/ready"
}

start_node() {
  start containerd containerd --config "$CLUSTER/config/containerd.toml"
  wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
  load_images "$(image_tarball "$PAUSE_IMAGE")"

  # A kubelet started before its configuration last changed (cluster DNS came later) reads it again.
  if running kubelet && [ "$CLUSTER/config/kubelet.yaml" -nt "$CLUSTER/pids/kubelet" ]; then stop kubelet; fi
  start kubelet "$K8S_BIN/kubelet" --config="$CLUSTER/config/kubelet.yaml" \
    --kubeconfig="$CLUSTER/kubelet.kubeconfig" --root-dir="$KUBELET_ROOT" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  start kube-proxy "$K8S_BIN/kube-proxy" --config="$CLUSTER/config/kube-proxy.yaml" --v=1
  wait_for kubelet 60 curl -fsS http://127.0.0.1:10248/healthz
  wait_for kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz
  wait_for kubelet 90 kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=2s
  # Pods can be created once the controller-manager has made the default ServiceAccount.
  wait_for kube-controller-manager 60 kubectl_admin -n default get serviceaccount default
}

# load_images TARBALL...: import images that containerd does not have yet.
load_images() {
  local f ref
  for f in "$@"; do
    [ -f "$f" ] || continue
    # docker-archive tarballs carry their name in manifest.json.
    ref=$(tar -xOf "$f" manifest.json | sed -nE 's/.*"RepoTags":\["([^"]+)".*/\1/p')
    if [ -n "$ref" ] && ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qxF "$ref"; then continue; fi
    log "importing image ${ref:-$f}"
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import --no-unpack=false "$f" >/dev/null
  done
}

is_up() {
  for c in "${COMPONENTS[@]}"; do running "$c" || return 1; done
  kubectl_admin get "node/$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "the cluster needs root (it runs containerd, the kubelet and iptables)"
  if is_up && [ "$(running_flavor)" = "$API_FLAVOR" ]; then log "already up: $CLUSTER/admin.kubeconfig"; return; fi
  local t0=$SECONDS
  "$here/install-host-packages.sh"
  "$here/build-binaries.sh" etcd kubernetes coredns
  "$here/build-images.sh" pause
  NODE_IP=$(node_ip)
  make_pki
  write_configs
  prepare_host
  start_control_plane
  start_dns
  start_node
  log "up in $((SECONDS - t0))s: export KUBECONFIG=$CLUSTER/admin.kubeconfig"
}

# stop NAME: SIGTERM, then SIGKILL after a grace period.
stop() {
  local name=$1 pid
  pid=$(pid_of "$name")
  rm -f "$CLUSTER/pids/$name"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
}

cmd_down() {
  local ctr=(ctr --address "$CONTAINERD_SOCK" -n k8s.io)
  stop kubelet
  stop kube-proxy
  if running containerd; then
    # Containers outlive containerd (their shims keep them): stop them first.
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
    sleep 1
    for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
    for c in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$c" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  pkill -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" 2>/dev/null || true
  stop coredns
  stop kube-scheduler
  stop kube-controller-manager
  stop kube-apiserver
  stop etcd
  [ -x "$K8S_BIN/kube-proxy" ] && "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  ip link del ktf-cni0 2>/dev/null || true
  # The kubelet's volume mounts (secrets, projected tokens) are tmpfs mounts under its root.
  local m
  for m in $(awk -v a="$KUBELET_ROOT" -v b="$RUN_DIR" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # A fresh cluster next time; the images in containerd's store and the PKI are kept.
  rm -rf "$DATA/etcd" "$KUBELET_ROOT" "$DATA/cni-ipam" "$DATA/pod-logs" "$RUN_DIR"
  log "down"
}

cmd_user() {
  [ $# -ge 1 ] || die "usage: cluster.sh user NAME [GROUP...]"
  local name=$1; shift
  local groups=""
  [ $# -gt 0 ] && groups=$(IFS=/; echo "$*")
  NODE_IP=$(node_ip)
  mkdir -p "$CLUSTER/users"
  # openssl's -subj takes several O= fields joined with "/O=".
  cert "user-$name" "$name" "${groups//\//\/O=}"
  kubeconfig "$CLUSTER/users/$name.kubeconfig" "$name" "user-$name"
  echo "$CLUSTER/users/$name.kubeconfig"
}

case ${1:-} in
  up)
    case ${2:-} in
      --stock) API_FLAVOR=stock ;;
      "") ;;
      *) die "usage: cluster.sh up [--stock]" ;;
    esac
    cmd_up ;;
  down) cmd_down ;;
  status) is_up ;;
  user) shift; cmd_user "$@" ;;
  load-image) shift; load_images "$@" ;;
  env) printf 'KUBECONFIG=%s\nKUBECTL=%s\nNODE_IP=%s\nAPI_FLAVOR=%s\n' "$CLUSTER/admin.kubeconfig" "$K8S_BIN/kubectl" "$(node_ip)" "$(running_flavor)" ;;
  *) echo "usage: $0 up [--stock]|down|status|env|user NAME [GROUP...]|load-image TARBALL..." >&2; exit 2 ;;
esac
