#!/usr/bin/env bash
# Builds the real binaries ktf is tested with (Kubernetes, etcd, OpenTofu, Terraform) from
# Go modules through the module proxy, into $KTF_CACHE/bin/<name>-<version>/. A binary
# already there is not rebuilt, so a warm run takes a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/versions.sh"

go_proxy() { go env GOPROXY | cut -d, -f1; }
log() { printf '[build-binaries] %s\n' "$*" >&2; }

# wrapper_module DIR MODULE VERSION [EXTRA_GO_MOD_LINES]: a module that requires MODULE,
# so that its main packages can be built with replace lines of our own.
wrapper_module() {
  local dir=$1 module=$2 version=$3 extra=${4:-}
  mkdir -p "$dir"
  printf 'module ktf.dev/build/wrapper\n\ngo 1.24\n\nrequire %s %s\n%s\n' \
    "$module" "$version" "$extra" >"$dir/go.mod"
}

build_kubernetes() {
  local out=$KTF_BIN_CACHE/kubernetes-$KUBERNETES_VERSION
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  if [ -x "$out/kubectl" ] && [ -x "$out/kube-apiserver" ] && [ -x "$out/kubelet" ]; then return; fi
  log "building Kubernetes $KUBERNETES_VERSION (first time: tens of minutes)"
  local src=$KTF_CACHE/src/kubernetes-$KUBERNETES_VERSION
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and points them at ./staging
  # with replace lines that only work inside its own repository; point them at the
  # published v0.<minor>.<patch> releases instead. The list is read from the release's go.mod.
  local staging replaces=""
  staging=$(curl -fsSL "$(go_proxy)/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod" |
    sed -nE 's#^\s*(k8s\.io/[a-z0-9-]+) => \./staging/.*#\1#p')
  for m in $staging; do replaces+="replace $m => $m v0.${KUBERNETES_VERSION#v1.}"$'\n'; done
  # The release's own godebug default is not inherited by a wrapper module.
  wrapper_module "$src" k8s.io/kubernetes "$KUBERNETES_VERSION" "$replaces
godebug default=go1.24"
  local pkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version ld=""
  for p in $pkg $cpkg; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$out.tmp"
  for b in "${bins[@]}"; do
    log "  $b"
    (cd "$src" && go build -trimpath -ldflags "-s -w $ld" -o "$out.tmp/$b" "k8s.io/kubernetes/cmd/$b")
  done
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_etcd() {
  local out=$KTF_BIN_CACHE/etcd-$ETCD_VERSION
  [ -x "$out/etcd" ] && return
  log "building etcd $ETCD_VERSION"
  local src=$KTF_CACHE/src/etcd-$ETCD_VERSION
  wrapper_module "$src" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  mkdir -p "$out.tmp"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_tofu() {
  local out=$KTF_BIN_CACHE/tofu-$TOFU_VERSION
  [ -x "$out/tofu" ] && return
  log "building OpenTofu $TOFU_VERSION"
  local src=$KTF_CACHE/src/tofu-$TOFU_VERSION replace
  # OpenTofu's go.mod replaces hcl/v2 with its fork; a wrapper must repeat that line.
  replace=$(curl -fsSL "$(go_proxy)/github.com/opentofu/opentofu/@v/$TOFU_VERSION.mod" | grep '^replace ')
  wrapper_module "$src" github.com/opentofu/opentofu "$TOFU_VERSION" "$replace"
  mkdir -p "$out.tmp"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$out.tmp/tofu" github.com/opentofu/opentofu/cmd/tofu)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_terraform() {
  local out=$KTF_BIN_CACHE/terraform-$TERRAFORM_VERSION
  [ -x "$out/terraform" ] && return
  log "building Terraform $TERRAFORM_VERSION"
  local src=$KTF_CACHE/src/terraform-$TERRAFORM_VERSION
  wrapper_module "$src" github.com/hashicorp/terraform "$TERRAFORM_VERSION"
  mkdir -p "$out.tmp"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/terraform" github.com/hashicorp/terraform)
  rm -rf "$out" && mv "$out.tmp" "$out"
}

# go_install NAME VERSION MODULE/PATH: a module's command, built as `go install` builds it.
go_install() {
  local name=$1 version=$2 pkg=$3
  local out=$KTF_BIN_CACHE/$name-$version
  [ -x "$out/$name" ] && return
  log "building $name $version"
  mkdir -p "$out.tmp"
  GOFLAGS= GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "$pkg@$version"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

build_versitygw() { go_install versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw; }
build_fake_gcs_server() { go_install fake-gcs-server "$FAKE_GCS_VERSION" github.com/fsouza/fake-gcs-server; }

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(etcd kubernetes tofu terraform versitygw fake-gcs-server)
for t in "${targets[@]}"; do
  case $t in
    etcd|kubernetes|tofu|terraform|versitygw) "build_$t" ;;
    fake-gcs-server) build_fake_gcs_server ;;
    *) echo "unknown target: $t (expected etcd, kubernetes, tofu, terraform, versitygw or fake-gcs-server)" >&2; exit 2 ;;
  esac
done
