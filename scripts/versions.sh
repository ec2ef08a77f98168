# Pinned versions of everything ktf builds from source, and where the builds are cached.
# Sourced by the other scripts; change a version here and the next run rebuilds it.
KUBERNETES_VERSION=v1.34.10
ETCD_VERSION=v3.6.10
TOFU_VERSION=v1.10.10
# The last MPL-licensed Terraform release.
TERRAFORM_VERSION=v1.5.7
# Real object stores for the backup tests: S3 (checks SigV4 signatures) and GCS (JSON API).
VERSITYGW_VERSION=v1.8.0
FAKE_GCS_VERSION=v1.56.1
# A Terraform Cloud API server for the cloud workspace tests (scripts/otf.sh); the only
# release the module proxy serves whole.
OTF_VERSION=v0.1.0
# The test provider built from providers/ktftest (scripts/build-provider.sh).
KTFTEST_PROVIDER_VERSION=0.1.0
# Cluster DNS for the local cluster; its go.mod needs Go >= 1.26.0.
COREDNS_VERSION=v1.15.0

KTF_CACHE=${KTF_CACHE:-$HOME/.cache/ktf}
KTF_BIN_CACHE=$KTF_CACHE/bin
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
# A minimal environment (CI, sudo, env -i) may leave Go's standard install off PATH.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH=$PATH:/usr/local/go/bin; fi

# Where scripts/build-images.sh keeps an image's docker-archive tarball.
image_tarball() { echo "$KTF_CACHE/images/$(echo "$1" | tr '/:' '__').tar"; }
