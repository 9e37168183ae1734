#!/usr/bin/env bash
# The Debian package, end to end: builds it (preset "package": a release build of weft and
# libweft, then cpack -G DEB), checks it with lintian (no error allowed), installs it with
# dpkg -i, runs /usr/bin/weft from it on a free loopback port as the packaged defaults do
# (--user www-data), fetches /, stops it with SIGTERM, and purges the package.
#   package_test.sh SOURCE_DIR
# It installs a package system-wide, so it needs root and dpkg: without them it says why and
# exits 77 (ctest counts that as skipped). Every step is bounded.
set -euo pipefail
src=$1

skip() {
  echo "package test skipped: $*"
  exit 77
}
fail() {
  echo "package test: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || skip "it installs a package, which needs root (this runs as uid $(id -u))"
for tool in dpkg dpkg-deb cpack flock; do
  command -v "$tool" >/dev/null || skip "no $tool here"
done
for tool in curl lintian help2man; do
  command -v "$tool" >/dev/null || fail "no $tool: run scripts/bootstrap"
done

# One run at a time on this machine: the package is installed system-wide.
exec 9>/tmp/weft-package-test.lock
flock -w 300 9 || fail "another package test held /tmp/weft-package-test.lock for 5 minutes"
if dpkg-query -W -f='${Status}' weft 2>/dev/null | grep -q "install ok installed"; then
  skip "a weft package is already installed here; this test will not replace or purge it"
fi

work=$(mktemp -d)
pid=
# True while process $1 runs (a child that has exited but was not waited for is a zombie: no).
running() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }
cleanup() {
  if [ -n "$pid" ] && running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  dpkg --purge weft >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== build (preset package) and cpack"
cd "$src"
timeout 60 cmake --preset package >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure failed"; }
timeout 480 nice cmake --build --preset package -j2 >"$work/build.log" 2>&1 ||
  { tail -30 "$work/build.log"; fail "build failed (or took over 8 minutes)"; }
rm -f build/package/weft_*.deb
(cd build/package && timeout 120 cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls build/package/weft_*_amd64.deb)
echo "built $deb"

echo "== lintian"
timeout 180 lintian --fail-on error "$deb" | tee "$work/lintian.log" || fail "lintian reports errors"

echo "== dpkg -i"
timeout 60 dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
for f in /usr/bin/weft /usr/share/man/man1/weft.1.gz /lib/systemd/system/weft.service \
  /lib/systemd/system/weft.socket /etc/default/weft /etc/logrotate.d/weft /usr/share/doc/weft/copyright \
  /etc/weft/weft.toml /usr/share/weft/www/index.html \
  /usr/include/weft/server.hpp /usr/lib/x86_64-linux-gnu/libweft.a /usr/lib/x86_64-linux-gnu/pkgconfig/weft.pc \
  /usr/lib/x86_64-linux-gnu/cmake/weft/weftConfig.cmake; do
  [ -e "$f" ] || fail "not installed: $f"
done
zcat /usr/share/man/man1/weft.1.gz | grep -qF -- '\-\-access\-log\-format' || fail "the man page lacks --access-log-format"
grep -q '^Type=notify$' /lib/systemd/system/weft.service || fail "weft.service is not Type=notify"
# systemd's own check of the units (their syntax, the ExecStart binary, the man page they cite).
if command -v systemd-analyze >/dev/null; then
  timeout 60 systemd-analyze verify /lib/systemd/system/weft.service /lib/systemd/system/weft.socket ||
    fail "systemd-analyze verify finds fault with the units"
fi
# The unit's arguments come from /etc/default/weft; they must be ones weft accepts.
# shellcheck disable=SC1091 # installed by the package just above
WEFT_ARGS=$(. /etc/default/weft && echo "$WEFT_ARGS")
[ -n "$WEFT_ARGS" ] || fail "/etc/default/weft sets no WEFT_ARGS"
# The example configuration file, as installed, is one weft accepts.
/usr/bin/weft --check-config /etc/weft/weft.toml || fail "weft --check-config refuses /etc/weft/weft.toml"

echo "== run /usr/bin/weft"
/usr/bin/weft --version
/usr/bin/weft --port 0 --loops 1 --user www-data --access-log off >"$work/out" 2>"$work/err" &
pid=$!
port=
for _ in $(seq 100); do
  port=$(sed -n 's|^weft listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/out")
  [ -n "$port" ] && break
  running "$pid" || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/err"; fail "weft printed no listening line within 10 s"; }
code=$(curl -q -sS --noproxy '*' --max-time 5 -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port/")
[ "$code" = 200 ] || fail "GET / answered $code"
grep -qi '<html' "$work/body" || fail "GET / is not the built-in page"
[ "$(awk '/^Uid:/ {print $2 $3}' "/proc/$pid/status")" = 3333 ] || fail "weft does not run as www-data"
kill -TERM "$pid"
status=
for _ in $(seq 100); do
  if ! running "$pid"; then
    wait "$pid" && status=0 || status=$?
    break
  fi
  sleep 0.1
done
[ -n "$status" ] || fail "weft did not stop within 10 s of SIGTERM"
[ "$status" = 0 ] || { cat "$work/err"; fail "weft exited with $status"; }
pid=

echo "== dpkg --purge"
timeout 60 dpkg --purge weft >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge failed"; }
for f in /usr/bin/weft /etc/default/weft /etc/weft/weft.toml /lib/systemd/system/weft.service; do
  [ ! -e "$f" ] || fail "still there after the purge: $f"
done
echo "package test: $(basename "$deb") passed lintian, installed, served GET / as www-data, stopped, purged"
