#!/usr/bin/env python3
"""Static-file feature matrix: weft vs nginx vs lighttpd vs h2o (issue 4's closing note).

Builds one test tree, serves it with each server on its own loopback port (each with its usual
static-file features switched on: nginx autoindex + gzip_static, lighttpd dir-listing, h2o
file.dirlisting + file.send-compressed), sends the same raw requests to all four and prints a
markdown table of what each one actually answered. Not part of ctest.

  tests/compare/feature_matrix.py [--weft build/release/apps/weft/weft] [--out table.md]

Needs the Debian packages nginx-light, lighttpd and h2o (`scripts/bootstrap bench` installs
them). Loopback only; every request has a 5 s timeout; the servers are stopped at the end.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECRET = b"TOP-SECRET-outside-root"
FILE = bytes((ord("a") + i % 26) for i in range(10000))


def build_tree(base):
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "sub"))
    os.makedirs(os.path.join(root, "list"))
    os.makedirs(os.path.join(root, ".well-known"))
    os.makedirs(os.path.join(base, "outside"))
    files = {
        "f.txt": FILE,
        "sub/index.html": b"<p>sub</p>",
        "app.js": b"console.log('plain');",
        "app.js.gz": b"GZIP-VARIANT",
        "app.js.br": b"BROTLI-VARIANT",
        ".hidden": b"hidden",
        ".well-known/x.txt": b"known",
        "list/a b.txt": b"1",
        "list/<tag>&.txt": b"2",
        "list/\u00e9t\u00e9.txt": b"3",
    }
    for rel, data in files.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    with open(os.path.join(base, "outside", "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.symlink("../outside/secret.txt", os.path.join(root, "escape"))
    os.symlink("../outside", os.path.join(root, "dirout"))
    old = 1_600_000_000
    for rel in files:
        os.utime(os.path.join(root, rel), (old, old))
    for dirpath, dirnames, filenames in os.walk(base):  # readable by an unprivileged worker
        os.chmod(dirpath, 0o755)
        for n in filenames:
            os.chmod(os.path.join(dirpath, n), 0o644)
    os.chmod(base, 0o755)
    return root


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, name):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port}")


def start_servers(base, root, weft):
    servers = {}
    tmp = os.path.join(base, "conf")
    os.makedirs(tmp)

    port = free_port()
    servers["weft"] = (port, subprocess.Popen([weft, "-p", str(port), "--loops", "1", "--access-log", "off", root],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  include /etc/nginx/mime.types; default_type application/octet-stream; access_log off;
  client_body_temp_path {tmp}/ncb; proxy_temp_path {tmp}/npt; fastcgi_temp_path {tmp}/nft;
  uwsgi_temp_path {tmp}/nut; scgi_temp_path {tmp}/nst;
  server {{ listen 127.0.0.1:{port}; root {root}; index index.html; autoindex on; gzip_static on; }}
}}
""")
    servers["nginx"] = (port, subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE))

    port = free_port()
    conf = os.path.join(tmp, "lighttpd.conf")
    with open(conf, "w") as f:
        f.write(f"""server.modules = ("mod_dirlisting", "mod_staticfile")
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{tmp}/lighttpd-error.log"
server.pid-file = "{tmp}/lighttpd.pid"
index-file.names = ("index.html")
dir-listing.activate = "enable"
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
""")
    servers["lighttpd"] = (port, subprocess.Popen(["lighttpd", "-D", "-f", conf], stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE))

    port = free_port()
    conf = os.path.join(tmp, "h2o.conf")
    with open(conf, "w") as f:
        f.write(f"""user: nobody
listen:
  host: 127.0.0.1
  port: {port}
hosts:
  default:
    paths:
      /:
        file.dir: {root}
        file.dirlisting: ON
        file.send-compressed: ON
""")
    servers["h2o"] = (port, subprocess.Popen(["h2o", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    for name, (port, proc) in servers.items():
        wait_listening(port, proc, name)
    return servers


class Response:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), value.strip())
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = dechunk(body)
        self.body = body

    def h(self, name):
        return self.headers.get(name.lower())


def dechunk(data):
    out = b""
    while data:
        line, _, rest = data.partition(b"\r\n")
        size = int(line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


def send(port, method, target, headers=()):
    request = f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    request += "".join(h + "\r\n" for h in headers) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request.encode("latin-1"))
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
    return Response(b"".join(chunks)) if chunks else None


def cell(r, *headers, leak_check=False):
    if r is None:
        return "no answer"
    text = str(r.status)
    for name in headers:
        value = r.h(name)
        text += f" `{name}: {value}`" if value is not None else f" (no {name})"
    if leak_check and SECRET in r.body:
        text += " **LEAKS the file outside root**"
    return text


def run_matrix(servers):
    rows = []

    def row(feature, request, fn):
        rows.append((feature, request, {name: fn(port) for name, (port, _) in servers.items()}))

    etags = {port: (send(port, "GET", "/f.txt") or Response(b"HTTP/1.1 0 x\r\n\r\n")).h("etag") or '"none"'
             for port, _ in servers.values()}
    lm = "Sun, 13 Sep 2020 12:26:40 GMT"

    row("plain file", "GET /f.txt", lambda p: cell(send(p, "GET", "/f.txt"), "Content-Type"))
    row("charset on text", "GET /app.js", lambda p: cell(send(p, "GET", "/app.js"), "Content-Type"))
    row("nosniff", "GET /f.txt", lambda p: cell(send(p, "GET", "/f.txt"), "X-Content-Type-Options"))
    row("validators", "GET /f.txt", lambda p: cell(send(p, "GET", "/f.txt"), "ETag", "Last-Modified"))
    row("Accept-Ranges", "GET /f.txt", lambda p: cell(send(p, "GET", "/f.txt"), "Accept-Ranges"))
    row("HEAD", "HEAD /f.txt", lambda p: cell(send(p, "HEAD", "/f.txt"), "Content-Length"))
    row("single range", "Range: bytes=0-9", lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-9"]),
                                                          "Content-Range"))
    row("suffix range", "Range: bytes=-5", lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=-5"]),
                                                         "Content-Range"))
    row("multipart ranges", "Range: bytes=0-0,5000-5000",
        lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-0,5000-5000"]), "Content-Type"))
    row("overlapping ranges", "Range: bytes=0-99,50-199",
        lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-99,50-199"]), "Content-Range", "Content-Type"))
    row("416", "Range: bytes=20000-", lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=20000-"]),
                                                    "Content-Range"))
    row("If-Range (ETag matches)", "Range: bytes=0-9 + If-Range: <etag>",
        lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-9", "If-Range: " + etags[p]])))
    row("If-Range (stale ETag)", "Range: bytes=0-9 + If-Range: \"stale\"",
        lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-9", 'If-Range: "stale"'])))
    row("If-Range (date)", "Range: bytes=0-9 + If-Range: <Last-Modified>",
        lambda p: cell(send(p, "GET", "/f.txt", ["Range: bytes=0-9", "If-Range: " + lm])))
    row("If-None-Match", "If-None-Match: <etag>",
        lambda p: cell(send(p, "GET", "/f.txt", ["If-None-Match: " + etags[p]]), "ETag"))
    row("If-None-Match weak", "If-None-Match: W/<etag>",
        lambda p: cell(send(p, "GET", "/f.txt", ["If-None-Match: W/" + etags[p]])))
    row("If-None-Match list", "If-None-Match: \"x\", <etag>",
        lambda p: cell(send(p, "GET", "/f.txt", ['If-None-Match: "x", ' + etags[p]])))
    row("If-None-Match *", "If-None-Match: *", lambda p: cell(send(p, "GET", "/f.txt", ["If-None-Match: *"])))
    row("If-Modified-Since", "If-Modified-Since: <Last-Modified>",
        lambda p: cell(send(p, "GET", "/f.txt", ["If-Modified-Since: " + lm])))
    row("If-Modified-Since later", "If-Modified-Since: (1 s later)",
        lambda p: cell(send(p, "GET", "/f.txt", ["If-Modified-Since: Sun, 13 Sep 2020 12:26:41 GMT"])))
    row("If-Match mismatch", "If-Match: \"nope\"", lambda p: cell(send(p, "GET", "/f.txt", ['If-Match: "nope"'])))
    row("If-Unmodified-Since past", "If-Unmodified-Since: 2001",
        lambda p: cell(send(p, "GET", "/f.txt", ["If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT"])))
    row("precedence: INM vs IMS", "If-None-Match: \"x\" + If-Modified-Since: <LM>",
        lambda p: cell(send(p, "GET", "/f.txt", ['If-None-Match: "x"', "If-Modified-Since: " + lm])))
    row("precedence: If-Match vs INM", "If-Match: \"nope\" + If-None-Match: <etag>",
        lambda p: cell(send(p, "GET", "/f.txt", ['If-Match: "nope"', "If-None-Match: " + etags[p]])))
    row("precompressed br", "Accept-Encoding: br, gzip",
        lambda p: cell(send(p, "GET", "/app.js", ["Accept-Encoding: br, gzip"]), "Content-Encoding", "Vary"))
    row("precompressed gzip", "Accept-Encoding: gzip",
        lambda p: cell(send(p, "GET", "/app.js", ["Accept-Encoding: gzip"]), "Content-Encoding"))
    row("q=0 honoured", "Accept-Encoding: br;q=0, gzip;q=0",
        lambda p: cell(send(p, "GET", "/app.js", ["Accept-Encoding: br;q=0, gzip;q=0"]), "Content-Encoding"))
    row("listing html", "GET /list/", lambda p: cell(send(p, "GET", "/list/"), "Content-Type"))

    def listing_escapes(p):
        r = send(p, "GET", "/list/")
        if r is None or r.status != 200:
            return cell(r)
        ok = b"<tag>" not in r.body and b"tag" in r.body  # shown, but never as raw markup
        return f"{r.status} names {'escaped' if ok else '**not escaped**'}"

    row("listing escapes names", "GET /list/ (file \"<tag>&.txt\")", listing_escapes)
    row("listing json (Accept)", "Accept: application/json",
        lambda p: cell(send(p, "GET", "/list/", ["Accept: application/json"]), "Content-Type"))
    row("listing json (query)", "GET /list/?format=json",
        lambda p: cell(send(p, "GET", "/list/?format=json"), "Content-Type"))
    row("dir without slash", "GET /sub?x=1", lambda p: cell(send(p, "GET", "/sub?x=1"), "Location"))
    row("hidden file", "GET /.hidden", lambda p: cell(send(p, "GET", "/.hidden")))
    row(".well-known", "GET /.well-known/x.txt", lambda p: cell(send(p, "GET", "/.well-known/x.txt")))
    row("symlink escape", "GET /escape", lambda p: cell(send(p, "GET", "/escape"), leak_check=True))
    row("symlinked dir escape", "GET /dirout/secret.txt",
        lambda p: cell(send(p, "GET", "/dirout/secret.txt"), leak_check=True))
    for target in ["/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/sub/..%2f..%2foutside%2fsecret.txt",
                   "/..%5coutside%5csecret.txt", "/%c0%ae%c0%ae/outside/secret.txt", "//../outside/secret.txt",
                   "/..;/outside/secret.txt"]:
        row("traversal", f"GET {target}", lambda p, t=target: cell(send(p, "GET", t), leak_check=True))
    row("OPTIONS", "OPTIONS /f.txt", lambda p: cell(send(p, "OPTIONS", "/f.txt"), "Allow"))
    row("405 Allow", "POST /f.txt", lambda p: cell(send(p, "POST", "/f.txt", ["Content-Length: 0"]), "Allow"))
    row("405 Allow (DELETE)", "DELETE /f.txt", lambda p: cell(send(p, "DELETE", "/f.txt"), "Allow"))
    return rows


def to_markdown(rows, names):
    out = ["| feature | request | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for feature, request, cells in rows:
        esc = lambda s: s.replace("|", "\\|")
        out.append(f"| {feature} | `{esc(request)}` | " + " | ".join(esc(cells[n]) for n in names) + " |")
    return "\n".join(out) + "\n"


def versions(weft):
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except Exception as e:  # noqa: BLE001 - a missing server is reported, not fatal here
            return f"unavailable ({e})"
    return {"weft": first_line([weft, "--version"]), "nginx": first_line(["nginx", "-v"]),
            "lighttpd": first_line(["lighttpd", "-v"]), "h2o": first_line(["h2o", "-v"])}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weft", default=os.path.join(repo, "build", "release", "apps", "weft", "weft"))
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    for tool in ("nginx", "lighttpd", "h2o"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run scripts/bootstrap bench (Debian packages nginx-light lighttpd h2o)")
    if not os.access(args.weft, os.X_OK):
        sys.exit(f"no weft binary at {args.weft}: build it (cmake --preset release && cmake --build --preset release)")

    base = tempfile.mkdtemp(prefix="weft-compare-")
    servers = {}
    try:
        root = build_tree(base)
        servers = start_servers(base, root, os.path.abspath(args.weft))
        rows = run_matrix(servers)
        names = list(servers)
        table = "Measured " + time.strftime("%Y-%m-%d") + " on one machine, loopback; " + "; ".join(
            f"{n}: {v}" for n, v in versions(args.weft).items()) + ".\n\n" + to_markdown(rows, names)
        print(table)
        if args.out:
            with open(args.out, "w") as f:
                f.write(table)
    finally:
        for _, proc in servers.values():
            proc.send_signal(signal.SIGTERM)
        for _, proc in servers.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
