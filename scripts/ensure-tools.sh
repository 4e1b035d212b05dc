#!/usr/bin/env bash
# Makes the pinned sops (and, with --with-actionlint / --with-age / --with-gitleaks /
# --with-kube, actionlint, the age CLI, gitleaks and kube-apiserver + kubectl used by
# tests) available and prints the absolute path of each on stdout, one `name=path` per line.
# --with-kube also builds atomic-writer (the kubelet's AtomicWriter as a command, tools/kube/cmd/atomic-writer)
# and needs etcd (Debian: apt-get install etcd-server) and openssl.
#
# Order, for each tool:
#   1. already on PATH (or in $KEYFLEET_TOOLS_DIR) at the pinned version: use it;
#   2. Go is installed: `go install <module>@<version>` into $KEYFLEET_TOOLS_DIR;
#   3. sops only: download the release binary for this platform and verify its sha256;
#   4. otherwise stop with a message that says how to install it.
# Progress goes to stderr; stdout carries only the paths, so tests and the CLI
# can read them.
set -euo pipefail

SOPS_VERSION="3.13.2"
ACTIONLINT_VERSION="1.7.12"
# The age CLI is used only by tests, to cross-check bundles keyfleet writes.
AGE_VERSION="1.3.1"
# gitleaks: the scan is compared with it side by side (test/validate/scan-gitleaks.test.ts).
GITLEAKS_VERSION="8.30.1"
# kube-apiserver + kubectl (+ atomic-writer): built from our module tools/kube (go.mod pins k8s.io/kubernetes
# and replaces its staging modules; `go install` refuses a module with replace directives).
KUBE_VERSION="1.33.13"
# sha256 of the official release binaries (https://github.com/getsops/sops/releases/tag/v3.13.2).
declare -A SOPS_SHA256=(
  [linux.amd64]="${KEYFLEET_SOPS_SHA256_LINUX_AMD64:-154dfe4cd70554bdd82b98e4cd4acf191d43d01ead6f00a73477aa44c4ac42ef}"
  [linux.arm64]="${KEYFLEET_SOPS_SHA256_LINUX_ARM64:-78abf2e15c86250a1553ae6f53aba96be6b2a8126f160b1534959add3467ad76}"
  [darwin.amd64]="${KEYFLEET_SOPS_SHA256_DARWIN_AMD64:-5a66836229ff4a73779b19644b6db28fd574a6b995c15fc333469b2f93ee2acd}"
  [darwin.arm64]="${KEYFLEET_SOPS_SHA256_DARWIN_ARM64:-412c475b52f167f1facd75d564422ffd1fa5302aaa7a404bdf4e30087e04b5a8}"
)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${KEYFLEET_TOOLS_DIR:-$root/.tools/bin}"
with_actionlint=0
with_age=0
with_gitleaks=0
with_kube=0
for arg in "$@"; do
  case "$arg" in
    --with-actionlint) with_actionlint=1 ;;
    --with-age) with_age=1 ;;
    --with-gitleaks) with_gitleaks=1 ;;
    --with-kube) with_kube=1 ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ensure-tools: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "ensure-tools: $*" >&2; }

version_of() { # <binary> -> prints the bare version or nothing
  # awk reads all input: `head` would end the pipe early and SIGPIPE the tool under pipefail.
  "$1" --version 2>/dev/null | awk 'match($0, /[0-9]+\.[0-9]+\.[0-9]+/) && !found { print substr($0, RSTART, RLENGTH); found = 1 }' || true
}

find_pinned() { # <name> <version> -> path on stdout, or status 1
  local candidate
  for candidate in "$tools_dir/$1" "$(command -v "$1" 2>/dev/null || true)" "$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/$1"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if [ "$(version_of "$candidate")" = "$2" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

go_install() { # <module> <version> <name> [ldflags]
  command -v go >/dev/null 2>&1 || return 1
  say "building $3 v$2 with $(go version | cut -d' ' -f3) (go install $1@v$2) ..."
  mkdir -p "$tools_dir"
  GOBIN="$tools_dir" GOFLAGS="${GOFLAGS:-} -mod=mod" go install -ldflags "${4:-}" "$1@v$2" >&2 && [ -x "$tools_dir/$3" ]
}

download_sops() {
  local os arch platform url sum expected tmp
  case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) return 1 ;; esac
  case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) return 1 ;; esac
  platform="$os.$arch"
  expected="${SOPS_SHA256[$platform]:-}"
  if [ -z "$expected" ]; then
    say "no pinned sha256 for $platform; refusing to run an unverified download"
    return 1
  fi
  command -v curl >/dev/null 2>&1 || return 1
  url="https://github.com/getsops/sops/releases/download/v$SOPS_VERSION/sops-v$SOPS_VERSION.$platform"
  say "downloading $url ..."
  mkdir -p "$tools_dir"
  tmp="$(mktemp "$tools_dir/.sops.XXXXXX")"
  if ! curl -fsSL --retry 3 -o "$tmp" "$url"; then rm -f "$tmp"; return 1; fi
  sum="$( (sha256sum "$tmp" 2>/dev/null || shasum -a 256 "$tmp") | cut -d' ' -f1)"
  if [ "$sum" != "$expected" ]; then
    rm -f "$tmp"; say "sha256 mismatch for $url: got $sum, expected $expected"; return 1
  fi
  chmod 0755 "$tmp" && mv "$tmp" "$tools_dir/sops"
}

ensure_sops() {
  local path
  if path="$(find_pinned sops "$SOPS_VERSION")"; then echo "sops=$path"; return; fi
  if go_install github.com/getsops/sops/v3/cmd/sops "$SOPS_VERSION" sops || download_sops; then
    echo "sops=$tools_dir/sops"; return
  fi
  say "cannot provide sops v$SOPS_VERSION. Install it one of these ways and retry:"
  say "  go install github.com/getsops/sops/v3/cmd/sops@v$SOPS_VERSION   (Go >= 1.25)"
  say "  or download sops-v$SOPS_VERSION for your platform from https://github.com/getsops/sops/releases and put it on PATH"
  exit 3
}

ensure_actionlint() {
  local path
  if path="$(find_pinned actionlint "$ACTIONLINT_VERSION")"; then echo "actionlint=$path"; return; fi
  if go_install github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" actionlint; then
    echo "actionlint=$tools_dir/actionlint"; return
  fi
  say "cannot provide actionlint v$ACTIONLINT_VERSION: go install github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
  exit 3
}

ensure_age() {
  local path
  if path="$(find_pinned age "$AGE_VERSION")"; then echo "age=$path"; return; fi
  if go_install filippo.io/age/cmd/age "$AGE_VERSION" age; then
    echo "age=$tools_dir/age"; return
  fi
  say "cannot provide age v$AGE_VERSION: go install filippo.io/age/cmd/age@v$AGE_VERSION"
  exit 3
}

ensure_gitleaks() {
  local path
  if path="$(find_pinned gitleaks "$GITLEAKS_VERSION")"; then echo "gitleaks=$path"; return; fi
  # A `go install` build calls itself "version is set by build process" unless told.
  if go_install github.com/zricethezav/gitleaks/v8 "$GITLEAKS_VERSION" gitleaks "-X github.com/zricethezav/gitleaks/v8/version.Version=v$GITLEAKS_VERSION" \
    && [ "$(version_of "$tools_dir/gitleaks")" = "$GITLEAKS_VERSION" ]; then
    echo "gitleaks=$tools_dir/gitleaks"; return
  fi
  say "cannot provide gitleaks v$GITLEAKS_VERSION: go install github.com/zricethezav/gitleaks/v8@v$GITLEAKS_VERSION"
  exit 3
}

kube_pinned() { # both binaries in $tools_dir report the pinned version
  [ -x "$tools_dir/kube-apiserver" ] && [ -x "$tools_dir/kubectl" ] || return 1
  [ "$("$tools_dir/kube-apiserver" --version 2>/dev/null)" = "Kubernetes v$KUBE_VERSION" ] || return 1
  "$tools_dir/kubectl" version --client 2>/dev/null | grep -x "Client Version: v$KUBE_VERSION" >/dev/null
}

atomic_writer_pinned() { # the atomic-writer in $tools_dir was built from the pinned k8s.io/kubernetes (its build info)
  [ -x "$tools_dir/atomic-writer" ] || return 1
  [ "$("$tools_dir/atomic-writer" --version 2>/dev/null)" = "atomic-writer k8s.io/kubernetes v$KUBE_VERSION" ]
}

ensure_kube() {
  local etcd pkg stage ldflags
  if ! kube_pinned; then
    command -v go >/dev/null 2>&1 || { say "cannot build kube-apiserver/kubectl v$KUBE_VERSION: Go is not installed"; exit 3; }
    say "building kube-apiserver + kubectl v$KUBE_VERSION from tools/kube with $(go version | cut -d' ' -f3) (cold: 20-40 min; cached: a link) ..."
    # Without these the binaries call themselves v0.0.0-master, and kubectl warns about version skew.
    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags="$ldflags -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=${KUBE_VERSION%%.*}"
      ldflags="$ldflags -X $pkg.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2) -X $pkg.gitTreeState=clean"
    done
    mkdir -p "$tools_dir"
    # Built aside, then renamed: a test may be running the old binaries.
    stage="$(mktemp -d "$tools_dir/.kube.XXXXXX")"
    if ! (cd "$root/tools/kube" && GOFLAGS="${GOFLAGS:-} -mod=mod" \
        go build -ldflags "$ldflags" -o "$stage/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >&2); then
      rm -rf "$stage"; say "building kube-apiserver/kubectl v$KUBE_VERSION failed (see above)"; exit 3
    fi
    mv -f "$stage/kube-apiserver" "$tools_dir/kube-apiserver" && mv -f "$stage/kubectl" "$tools_dir/kubectl" && rm -rf "$stage"
    kube_pinned || { say "the kube-apiserver/kubectl just built do not report v$KUBE_VERSION"; exit 3; }
  fi
  if ! atomic_writer_pinned; then
    # Same module and Go cache as kube-apiserver: cold about 12 min alone, seconds once kube-apiserver is built.
    say "building atomic-writer (k8s.io/kubernetes v$KUBE_VERSION pkg/volume/util) from tools/kube ..."
    mkdir -p "$tools_dir"
    stage="$(mktemp -d "$tools_dir/.kube.XXXXXX")"
    if ! (cd "$root/tools/kube" && GOFLAGS="${GOFLAGS:-} -mod=mod" go build -ldflags "-s -w" -o "$stage/atomic-writer" ./cmd/atomic-writer >&2); then
      rm -rf "$stage"; say "building atomic-writer failed (see above)"; exit 3
    fi
    mv -f "$stage/atomic-writer" "$tools_dir/atomic-writer" && rm -rf "$stage"
    atomic_writer_pinned || { say "the atomic-writer just built does not report k8s.io/kubernetes v$KUBE_VERSION"; exit 3; }
  fi
  echo "kube-apiserver=$tools_dir/kube-apiserver"
  echo "kubectl=$tools_dir/kubectl"
  echo "atomic-writer=$tools_dir/atomic-writer"
  if ! etcd="$(command -v etcd)"; then
    say "etcd is not installed; the real-API-server tests need it: apt-get install etcd-server (or put etcd on PATH)"
    exit 3
  fi
  echo "etcd=$etcd"
  command -v openssl >/dev/null 2>&1 || { say "openssl is not installed; the real-API-server tests make their certificates with it: apt-get install openssl"; exit 3; }
}

ensure_sops
if [ "$with_actionlint" = 1 ]; then ensure_actionlint; fi
if [ "$with_age" = 1 ]; then ensure_age; fi
if [ "$with_gitleaks" = 1 ]; then ensure_gitleaks; fi
if [ "$with_kube" = 1 ]; then ensure_kube; fi
