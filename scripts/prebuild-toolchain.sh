#!/usr/bin/env bash
# The toolchain `npm run prebuild` builds the shipped addon with: Debian 11's GCC 10 and glibc 2.31
# (headers, crt files, libc.so stubs, a static libstdc++ built against glibc 2.31) unpacked into
# build-toolchain/sysroot, with cc/c++ wrappers in build-toolchain/bin. A prebuild made with the
# machine's own GCC 12 on glibc 2.36 needs glibc 2.36 even with libstdc++ linked statically:
# GCC 12's libstdc++.a and libgcc_eh.a reference __libc_single_threaded (2.32), _dl_find_object
# (2.35) and arc4random (2.36). Built here, it needs glibc 2.29.
# Packages come from Debian's archive through a private apt configuration (as in vendor-fetch.sh)
# and are pinned by SHA-256. GCC's own helper libraries (libisl, libmpc, libmpfr) are the host's.
# Prints the folder of the wrappers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/build-toolchain"
sysroot="$dir/sysroot"
packages=(
  "libc6 2.31-13+deb11u11 05f7264da867b37f4c5ce49266b558ea1e81e05a9464f623152fca70f3550282"
  "libc6-dev 2.31-13+deb11u11 e7f7b45d9c5cfcf37609f0b6efd3c645272c812144703af89dfd32218fcb0fd3"
  "linux-libc-dev 5.10.223-1 e3be603bd12377bb90fcfb0f2048ca3a81c886e49d6f09945b82159d1c54f7b2"
  "libgcc-s1 10.2.1-6 e478f2709d8474165bb664de42e16950c391f30eaa55bc9b3573281d83a29daf"
  "gcc-10 10.2.1-6 07af57b8d276f330830cf67ef144e461817e0ad99ac12c1e9e7e6b6882a4b42a"
  "g++-10 10.2.1-6 d25a7566c15c63c56eb34fa98e0663805ceb7cfd8054c2b6ae3f09be6982671c"
  "cpp-10 10.2.1-6 ed2018b8c7ab7006826ccfcc6d306c3a5e1c6dc12595022e4e02913302fdc10e"
  "libgcc-10-dev 10.2.1-6 3b711374092b84e732c4e73cf33e02cff02e34a5f105eb6467de8d9038e4cd9d"
  "libstdc++-10-dev 10.2.1-6 20b1f56863dcc5f187d6cb53b2aa6149bd013be4ec67e10c2c31a22fda619a01"
)
want_stamp="$(printf '%s\n' "${packages[@]}" | sha256sum | cut -d' ' -f1)"
if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want_stamp" && -x "$dir/bin/c++" ]]; then
  echo "$dir/bin"
  exit 0
fi

for tool in apt-get dpkg-deb sha256sum; do
  command -v "$tool" >/dev/null || { echo "prebuild-toolchain: '$tool' is required (Debian/Ubuntu apt tooling)" >&2; exit 1; }
done
mirror="${DIDACTIC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
apt_dir="$dir/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dir/debs"
echo "deb $mirror bullseye main" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "APT::Architecture=amd64" -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1"
)
echo "prebuild-toolchain: fetching Debian 11 GCC 10 + glibc 2.31 packages" >&2
apt-get "${apt_opts[@]}" -qq update >&2
rm -rf "$sysroot"
mkdir -p "$sysroot"
for entry in "${packages[@]}"; do
  read -r name version sum <<<"$entry"
  deb=("$dir/debs/${name}_${version}"_*.deb)
  if [[ ! -f "${deb[0]}" ]]; then
    (cd "$dir/debs" && apt-get "${apt_opts[@]}" -qq download "$name=$version" >&2)
    deb=("$dir/debs/${name}_${version}"_*.deb)
  fi
  got="$(sha256sum "${deb[0]}" | cut -d' ' -f1)"
  [[ "$got" == "$sum" ]] || { echo "prebuild-toolchain: SHA-256 mismatch for ${deb[0]}: expected $sum, got $got" >&2; exit 1; }
  dpkg-deb -x "${deb[0]}" "$sysroot"
done
# Absolute symlinks (libc.so → /lib/...) must point into the sysroot, not at the host's files.
find "$sysroot" -type l -lname '/*' | while read -r link; do ln -sfn "$sysroot$(readlink "$link")" "$link"; done
mkdir -p "$sysroot/lib64" "$dir/bin"
ln -sfn ../lib/x86_64-linux-gnu/ld-2.31.so "$sysroot/lib64/ld-linux-x86-64.so.2"
# -L first: GCC otherwise searches its own ../../../x86_64-linux-gnu (outside the sysroot) first.
flags="--sysroot=$sysroot -B$sysroot/usr/lib/gcc/x86_64-linux-gnu/10 -L$sysroot/usr/lib/x86_64-linux-gnu -L$sysroot/lib/x86_64-linux-gnu"
printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$sysroot/usr/bin/x86_64-linux-gnu-gcc-10" "$flags" >"$dir/bin/cc"
printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$sysroot/usr/bin/x86_64-linux-gnu-g++-10" "$flags" >"$dir/bin/c++"
chmod +x "$dir/bin/cc" "$dir/bin/c++"
echo 'int main(void) { return 0; }' >"$dir/probe.c"
"$dir/bin/cc" -o "$dir/probe" "$dir/probe.c" >&2 || { echo "prebuild-toolchain: the GCC 10 toolchain does not run here" >&2; exit 1; }
echo "$want_stamp" >"$dir/.stamp"
echo "$dir/bin"
