#!/usr/bin/env bash
# Makes the pinned sops (and, with --with-actionlint / --with-age, actionlint and
# the age CLI used by tests) available and
# prints the absolute path of each on stdout, one `name=path` per line.
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
for arg in "$@"; do
  case "$arg" in
    --with-actionlint) with_actionlint=1 ;;
    --with-age) with_age=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ensure-tools: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "ensure-tools: $*" >&2; }

version_of() { # <binary> -> prints the bare version or nothing
  "$1" --version 2>/dev/null | head -n1 | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || true
}

find_pinned() { # <name> <version> -> path on stdout, or status 1
  local candidate
  for candidate in "$tools_dir/$1" "$(command -v "$1" 2>/dev/null || true)" "$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/$1"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if [ "$(version_of "$candidate")" = "$2" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

go_install() { # <module> <version> <name>
  command -v go >/dev/null 2>&1 || return 1
  say "building $3 v$2 with $(go version | cut -d' ' -f3) (go install $1@v$2) ..."
  mkdir -p "$tools_dir"
  GOBIN="$tools_dir" GOFLAGS="${GOFLAGS:-} -mod=mod" go install "$1@v$2" >&2 && [ -x "$tools_dir/$3" ]
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

ensure_sops
if [ "$with_actionlint" = 1 ]; then ensure_actionlint; fi
if [ "$with_age" = 1 ]; then ensure_age; fi
