#!/usr/bin/env bash
# Sends every ambiguous framing of smuggling_cases.hpp to weft and to a temporary nginx (Debian's
# nginx-light) on loopback, as POST /index.html to a static file on both (each answers 405 and
# must then get past the body), and prints a Markdown table of the two answers: the statuses in
# order, whether the server closed, and "hidden GET answered" when it parsed the request hidden in
# the body (a desync whenever a server in front of it read the framing the other way).
#   tests/stress/smuggling_compare.sh [BUILD_DIR]     (default: build/debug; needs smuggling_probe)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/debug}
probe=$build/tests/stress/smuggling_probe
weft=$build/apps/weft/weft
nginx=/usr/sbin/nginx
for f in "$probe" "$weft"; do [ -x "$f" ] || { echo "missing $f: build $build first" >&2; exit 1; }; done
[ -x "$nginx" ] || { echo "nginx not installed (apt-get install nginx-light)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/weft-smuggling.XXXXXX)
weft_pid=""
nginx_pid=""
cleanup() {
  [ -n "$weft_pid" ] && kill "$weft_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/root" "$tmp/body"
echo "<p>index</p>" >"$tmp/root/index.html"

"$weft" -p 0 --log-level error "$tmp/root" >"$tmp/weft.out" 2>&1 &
weft_pid=$!
for _ in $(seq 50); do grep -q listening "$tmp/weft.out" 2>/dev/null && break; sleep 0.1; done
weft_port=$(sed -nE 's|.*http://127.0.0.1:([0-9]+)/.*|\1|p' "$tmp/weft.out")

# A free loopback port for nginx (it cannot report one it picked).
nginx_port=""
for port in $(shuf -i 20000-29999 -n 50); do
  if ! ss -Htln "sport = :$port" | grep -q .; then nginx_port=$port; break; fi
done
cat >"$tmp/nginx.conf" <<CONF
user root;
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $tmp/body;
  server {
    listen 127.0.0.1:$nginx_port;
    root $tmp/root;
    location / { }
  }
}
CONF
"$nginx" -c "$tmp/nginx.conf" -p "$tmp" &
nginx_pid=$!
for _ in $(seq 50); do ss -Htln "sport = :$nginx_port" | grep -q . && break; sleep 0.1; done

"$probe" "$weft_port" /index.html >"$tmp/weft.tsv"
"$probe" "$nginx_port" /index.html >"$tmp/nginx.tsv"
echo "| framing | weft $(${weft} --version 2>/dev/null | head -1 | awk '{print $NF}') | nginx $($nginx -v 2>&1 | sed 's|.*/||') |"
echo "|---|---|---|"
paste "$tmp/weft.tsv" "$tmp/nginx.tsv" | awk -F'\t' '{
  w = $2 ", " $3 ($4 == "smuggled" ? ", hidden GET answered" : "");
  n = $6 ", " $7 ($8 == "smuggled" ? ", hidden GET answered" : "");
  printf "| %s | %s | %s |\n", $1, w, n }'
