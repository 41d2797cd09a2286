#!/bin/sh
# Installs a prebuilt gitops-iam from a GitHub release, after checking the archive's SHA-256
# against the release's SHA256SUMS (written by .github/workflows/release.yml).
#
#   sh install.sh            the latest release
#   sh install.sh 0.1.0      that release (v0.1.0 works too)
#
# Environment:
#   INSTALL_DIR              where the binary goes (default: ~/.local/bin)
#   GITOPS_IAM_RELEASE_URL   the releases' base URL (default:
#                            https://github.com/gitops-iam/gitops-iam/releases); assets are read
#                            from BASE/download/vVERSION/ or BASE/latest/download/, GitHub's layout
#
# POSIX sh: it runs under dash, busybox sh and macOS's sh alike.
set -eu

base=${GITOPS_IAM_RELEASE_URL:-https://github.com/gitops-iam/gitops-iam/releases}
base=${base%/}
install_dir=${INSTALL_DIR:-$HOME/.local/bin}

say() { printf 'gitops-iam install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# The release target for this machine: static musl binaries on Linux, native ones on macOS.
detect_target() {
  case $(uname -s) in
    Linux) os=unknown-linux-musl ;;
    Darwin) os=apple-darwin ;;
    *) die "no prebuilt binary for $(uname -s); build from source: cargo install --locked gitops-iam" ;;
  esac
  case $(uname -m) in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) die "no prebuilt binary for $(uname -m); build from source: cargo install --locked gitops-iam" ;;
  esac
  echo "$arch-$os"
}

# download URL FILE
download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL -o "$2" "$1" || die "could not download $1 (curl exit $?)"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "could not download $1 (wget exit $?)"
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is installed: cannot check the download"
  fi
}

case ${1:-latest} in
  latest) assets=$base/latest/download ;;
  v*) assets=$base/download/$1 ;;
  *) assets=$base/download/v$1 ;;
esac
[ $# -le 1 ] || die "usage: install.sh [VERSION]"

target=$(detect_target)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

download "$assets/SHA256SUMS" "$tmp/SHA256SUMS"
# A line of SHA256SUMS is "HASH  NAME" (or "HASH *NAME"); NAME is gitops-iam-VERSION-TARGET.tar.gz.
line=$(awk -v suffix="-$target.tar.gz" '{ n = $2; sub(/^\*/, "", n) } n ~ /^gitops-iam-/ && substr(n, length(n) - length(suffix) + 1) == suffix { print $1, n; exit }' "$tmp/SHA256SUMS")
[ -n "$line" ] || die "the release at $assets has no archive for $target (see $assets/SHA256SUMS); build from source: cargo install --locked gitops-iam"
expected=${line%% *}
archive=${line#* }

say "downloading $assets/$archive"
download "$assets/$archive" "$tmp/$archive"
actual=$(sha256_of "$tmp/$archive")
if [ "$actual" != "$expected" ]; then
  die "SHA-256 mismatch for $archive: expected $expected (SHA256SUMS), got $actual; refusing to install. Download again, or check the release page"
fi
say "SHA-256 verified: $actual"

mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" || die "could not unpack $archive"
[ -f "$tmp/x/gitops-iam" ] || die "$archive holds no gitops-iam binary"

mkdir -p "$install_dir"
# Copy beside the destination, then rename: a running gitops-iam is never half-overwritten.
cp "$tmp/x/gitops-iam" "$install_dir/.gitops-iam.new"
chmod 755 "$install_dir/.gitops-iam.new"
mv -f "$install_dir/.gitops-iam.new" "$install_dir/gitops-iam"

say "installed $install_dir/gitops-iam ($("$install_dir/gitops-iam" --version))"
case ":$PATH:" in
  *":$install_dir:"*) ;;
  *) say "$install_dir is not on PATH; add it, e.g.: export PATH=\"$install_dir:\$PATH\"" ;;
esac
