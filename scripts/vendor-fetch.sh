#!/usr/bin/env bash
# Fetches the pinned third-party sources listed in native/vendor.lock from Debian's archive,
# checks every file's SHA-256 against the lock, and unpacks them into native/vendor/ (git-ignored).
# Uses a private apt sources list, lists and cache under native/vendor/apt: the machine's apt
# configuration is never touched. Idempotent: does nothing when the unpacked tree matches the lock.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$root/native/vendor.lock"
vendor="$root/native/vendor"
stamp="$vendor/.lock.sha256"
want_stamp="$(sha256sum "$lock" | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
  echo "vendor-fetch: native/vendor matches vendor.lock; nothing to do"
  exit 0
fi

for tool in apt-get dpkg-source dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || { echo "vendor-fetch: '$tool' is required (Debian/Ubuntu apt tooling)" >&2; exit 1; }
done

mirror="${DIDACTIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
apt_dir="$vendor/apt"
downloads="$vendor/downloads"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$downloads"
cat >"$apt_dir/sources.list" <<LIST
deb-src $mirror bookworm main
deb $mirror trixie main
LIST
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=amd64"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=1"
)

sums=()
specs=()
while read -r kind a b c; do
  case "$kind" in
    src|deb) specs+=("$kind $a $b $c") ;;
    sha256) sums+=("$a $b") ;;
  esac
done < <(grep -v '^#' "$lock")

missing=0
for entry in "${sums[@]}"; do
  [[ -f "$downloads/${entry%% *}" ]] || missing=1
done

if (( missing )); then
  echo "vendor-fetch: updating private apt lists"
  apt-get "${apt_opts[@]}" -qq update
  (
    cd "$downloads"
    for spec in "${specs[@]}"; do
      read -r kind name version _ <<<"$spec"
      if [[ "$kind" == src ]]; then
        echo "vendor-fetch: apt-get source $name=$version"
        # Upstream signature files (.asc) listed in a .dsc are sometimes missing from the
        # mirror; every file we use is pinned by SHA-256 below, so a failed extra is tolerated.
        apt-get "${apt_opts[@]}" -qq source --download-only "$name=$version" ||
          echo "vendor-fetch: apt-get source $name reported a missing file; checking the pinned ones"
      else
        echo "vendor-fetch: apt-get download $name=$version"
        apt-get "${apt_opts[@]}" -qq download "$name=$version"
      fi
    done
  )
fi

for entry in "${sums[@]}"; do
  file="${entry%% *}"; hash="${entry##* }"
  got="$(sha256sum "$downloads/$file" | cut -d' ' -f1)"
  if [[ "$got" != "$hash" ]]; then
    echo "vendor-fetch: SHA-256 mismatch for $file: expected $hash, got $got" >&2
    exit 1
  fi
done
echo "vendor-fetch: all ${#sums[@]} files match vendor.lock"

rm -rf "$vendor/src" "$vendor/onnxruntime"
mkdir -p "$vendor/src"
for spec in "${specs[@]}"; do
  read -r kind name version _ <<<"$spec"
  if [[ "$kind" == src ]]; then
    upstream="${version#*:}"; upstream="${upstream%-*}"
    dpkg-source --no-check -x "$downloads/${name}_${version#*:}.dsc" "$vendor/src/$name" >/dev/null
  else
    deb=("$downloads/${name}_${version#*:}"_*.deb)
    dpkg-deb -x "${deb[0]}" "$vendor/onnxruntime"
  fi
done
echo "$want_stamp" >"$stamp"
echo "vendor-fetch: unpacked into native/vendor/src and native/vendor/onnxruntime"
