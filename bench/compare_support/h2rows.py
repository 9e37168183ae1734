"""The HTTP/2 rows of bench/compare (--h2): server configurations, h2load runs and idle h2
connections.

Two sets of servers, one worker each, serving the docroot of the other rows: one speaks h2 over
TLS (ALPN, the certificate and OpenSSL settings of the TLS rows), one speaks cleartext HTTP/2
with prior knowledge (h2c, RFC 9113 3.3) on a plain port. h2load loads them; it counts a request
that was never answered as neither done nor failed, so every row asks a fixed number of
requests and checks that as many succeeded (the shortfall is an error), and that the protocol
h2load negotiated is the one of the row (h2 or h2c; over TLS also TLS_PARAMS).
"""
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time

# name: (scheme, path, connections, streams per connection, requests per second assumed when
# sizing the fixed request count of one run: roughly --seconds long on this machine)
WORKLOADS = {
    "h2 176 B, TLS, -c 50 -m 16": ("https", "/hello.html", 50, 16, 40000),
    "h2 176 B, h2c, -c 50 -m 16": ("http", "/hello.html", 50, 16, 50000),
    "h2 1 MiB, TLS, -c 10 -m 4": ("https", "/1m.bin", 10, 4, 700),
    "h2 1 MiB, h2c, -c 10 -m 4": ("http", "/1m.bin", 10, 4, 1500),
}
TLS_PORTS = {"weft": 19021, "nginx": 19022, "h2o": 19023, "lighttpd": 19024, "weft-base": 19027}
H2C_PORTS = {"weft": 19031, "nginx": 19032, "h2o": 19033, "lighttpd": 19034, "weft-base": 19037}


def ports(scheme):
    return TLS_PORTS if scheme == "https" else H2C_PORTS


def configs(work, docroot, cert, key, tls, weft_cmd):
    """Commands of the h2 servers over TLS (tls=True) or h2c. weft_cmd(name, port, tls_args)
    gives weft's and weft-base's."""
    d = os.path.join(work, "h2" if tls else "h2c")
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(work, "nginx-tmp"), exist_ok=True)
    p = TLS_PORTS if tls else H2C_PORTS
    nginx_tls = f"""  ssl_certificate {cert};
  ssl_certificate_key {key};
  ssl_protocols TLSv1.3;
  ssl_ecdh_curve X25519;
  ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;
""" if tls else ""
    # nginx 1.22: http2 on the listen line; without ssl it is h2c with prior knowledge only.
    nginx = os.path.join(d, "nginx.conf")
    with open(nginx, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
error_log {d}/nginx-error.log;
pid {d}/nginx.pid;
worker_rlimit_nofile 30000;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  open_file_cache max=1000 inactive=60s;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  http2_max_requests 1000000;
  http2_idle_timeout 75s;
  client_body_temp_path {work}/nginx-tmp;
  proxy_temp_path {work}/nginx-tmp;
  fastcgi_temp_path {work}/nginx-tmp;
  uwsgi_temp_path {work}/nginx-tmp;
  scgi_temp_path {work}/nginx-tmp;
  types {{ text/html html; }}
  default_type application/octet-stream;
{nginx_tls}  server {{ listen 127.0.0.1:{p['nginx']}{' ssl' if tls else ''} http2; root {docroot}; }}
}}
""")
    # h2o 2.2: h2 by ALPN over TLS and h2c with prior knowledge on a plain listener, both by
    # default. Its HTTP/2 idle timeout is 10 s by default: 75 s as the others.
    h2o = os.path.join(d, "h2o.conf")
    h2o_tls = f"""  ssl:
    certificate-file: {cert}
    key-file: {key}
    ocsp-update-interval: 0
""" if tls else ""
    with open(h2o, "w") as f:
        f.write(f"""num-threads: 1
max-connections: 20000
http1-request-timeout: 75
http2-idle-timeout: 75
listen:
  host: 127.0.0.1
  port: {p['h2o']}
{h2o_tls}hosts:
  default:
    paths:
      /:
        file.dir: {docroot}
""")
    lighttpd = os.path.join(d, "lighttpd.conf")
    lighttpd_tls = f"""server.modules += ("mod_openssl")
ssl.engine = "enable"
ssl.pemfile = "{cert}"
ssl.privkey = "{key}"
ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1.3", "Ciphersuites" => "TLS_AES_256_GCM_SHA384",
                            "Groups" => "X25519")
""" if tls else ""
    with open(lighttpd, "w") as f:
        f.write(f"""server.document-root = "{docroot}"
server.bind = "127.0.0.1"
server.port = {p['lighttpd']}
server.max-fds = 30000
server.max-connections = 15000
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 75
server.defer-accept = 1
server.errorlog = "{d}/lighttpd-error.log"
server.feature-flags += ("server.h2proto" => "enable", "server.h2c" => "enable")
mimetype.assign = (".html" => "text/html", "" => "application/octet-stream")
{lighttpd_tls}""")
    tls_args = ["--tls-cert", cert, "--tls-key", key, "--tls-min", "1.3"] if tls else []
    cmds = {name: weft_cmd(name, p[name], tls_args) for name in ("weft", "weft-base")}
    cmds.update({"nginx": ["nginx", "-c", nginx], "h2o": ["h2o", "-c", h2o],
                 "lighttpd": ["lighttpd", "-D", "-f", lighttpd]})
    return {name: cmd for name, cmd in cmds.items() if cmd is not None}, d


def run_h2load(port, scheme, path, conns, streams, requests, env, timeout):
    # h2load sets its own TLS 1.3 suites (OPENSSL_CONF, in env, forces the version and group).
    suites = ["--tls13-ciphers=TLS_AES_256_GCM_SHA384"] if scheme == "https" else []
    cmd = ["h2load", "-n", str(requests), "-c", str(conns), "-m", str(streams), "-t", "1", *suites,
           # A request never answered ends its connection after 10 s of silence (then it counts
           # as the shortfall) rather than holding the run forever.
           "-N", "10s", f"{scheme}://127.0.0.1:{port}{path}"]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout).stdout
    except subprocess.TimeoutExpired as e:
        return (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")


def parse_h2load(text):
    """The figures of one h2load run (missing ones: 0 / None)."""
    r = {"succeeded": 0, "failed": 0, "errored": 0, "timeout": 0, "rps": 0.0, "mean_ms": None,
         "protocol": None, "cipher": None, "group": None, "non2xx": 0}
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    if m:
        r.update(succeeded=int(m.group(4)), failed=int(m.group(5)), errored=int(m.group(6)),
                 timeout=int(m.group(7)))
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        r["non2xx"] = sum(int(x) for x in m.groups()[1:])
    m = re.search(r"^time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if m:
        r["mean_ms"] = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    for key, pattern in (("protocol", r"Application protocol: (\S+)"), ("cipher", r"Cipher: (\S+)"),
                         ("group", r"Server Temp Key: (\S+)")):
        m = re.search(pattern, text)
        if m:
            r[key] = m.group(1)
    return r


def requests_for(workload, seconds):
    _, _, conns, streams, rate = WORKLOADS[workload]
    return max(conns * streams, int(rate * seconds))


def measure(pid, port, workload, seconds, cpu_ticks, tick, env):
    """One h2load run against the server `pid` on `port`: server CPU per succeeded request, and
    the shortfall (requests asked but not succeeded) among the errors."""
    scheme, path, conns, streams, _ = WORKLOADS[workload]
    asked = requests_for(workload, seconds)
    before = cpu_ticks(pid)
    out = run_h2load(port, scheme, path, conns, streams, asked, env, timeout=seconds * 20 + 60)
    used = cpu_ticks(pid) - before
    r = parse_h2load(out)
    done = r["succeeded"]
    errors = (asked - done) + r["non2xx"]
    if errors:
        print(f"h2load on port {port}: {asked} asked, {done} succeeded, {r['failed']} failed, "
              f"{r['errored']} errored, {r['timeout']} timeout, {r['non2xx']} not 2xx", file=sys.stderr)
    return {"requests": done, "asked": asked, "rps": r["rps"], "mean_ms": r["mean_ms"], "errors": errors,
            "cpu_us": used / tick * 1e6 / done if done else None, "protocol": r["protocol"],
            "cipher": r["cipher"], "group": r["group"]}


def check_protocol(name, port, scheme, env, tls_params):
    """A few requests by h2load: None when the server speaks h2 (TLS: and the forced TLS
    parameters), else what went wrong."""
    out = run_h2load(port, scheme, "/hello.html", 1, 1, 4, env, timeout=30)
    r = parse_h2load(out)
    want = "h2" if scheme == "https" else "h2c"
    if r["protocol"] != want:
        return f"{name} on port {port} negotiated {r['protocol'] or 'nothing'}, not {want}"
    if r["succeeded"] != 4:
        return f"{name} on port {port}: {r['succeeded']} of 4 h2 requests succeeded"
    if scheme == "https":
        version, suite, group = tls_params.split("/")
        if r["cipher"] != suite or r["group"] != group:
            return f"{name} on port {port} negotiated {r['cipher']}/{r['group']}, not {suite}/{group}"
    return None


# ---- idle h2 connections over TLS (a small hand-made HTTP/2 client: one request per stream)
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS, HEADERS, DATA, GOAWAY = 4, 1, 0, 7
END_STREAM, ACK = 1, 1


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def request_frame(stream, path):
    """HEADERS for GET https://localhost{path}: HPACK static-table names, literal values."""
    def literal(index, value):  # literal without indexing, indexed name (RFC 7541 6.2.2)
        return bytes([index]) + bytes([len(value)]) + value.encode()
    block = b"\x82\x87" + literal(4, path) + literal(1, "localhost")  # :method GET, :scheme https
    return frame(HEADERS, END_STREAM | 4, stream, block)  # END_HEADERS = 4


class IdleClient:
    """One TLS connection speaking h2; answers the server's SETTINGS."""

    def __init__(self, port, context):
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        if self.sock.selected_alpn_protocol() != "h2":
            raise OSError(f"ALPN chose {self.sock.selected_alpn_protocol()}, not h2")
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buffer = b""

    def send(self, stream, path):
        self.sock.sendall(request_frame(stream, path))

    def answered(self, stream):
        """Reads until `stream` ends; True when its answer was a 200 (:status from the static table)."""
        status_ok = False
        while True:
            while len(self.buffer) < 9 or len(self.buffer) < 9 + int.from_bytes(self.buffer[:3], "big"):
                chunk = self.sock.recv(65536)
                if not chunk:
                    return False
                self.buffer += chunk
            length = int.from_bytes(self.buffer[:3], "big")
            kind, flags = self.buffer[3], self.buffer[4]
            sid = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
            payload = self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            if kind == SETTINGS and not flags & ACK:
                self.sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind == GOAWAY:
                return False
            elif sid == stream and kind == HEADERS:
                status_ok = status_ok or self.status_200(flags, payload)
            if sid == stream and kind in (HEADERS, DATA) and flags & END_STREAM:
                return status_ok

    @staticmethod
    def status_200(flags, payload):
        if flags & 0x8:  # PADDED
            payload = payload[1:]
        if flags & 0x20:  # PRIORITY
            payload = payload[5:]
        return payload[:1] == b"\x88"  # indexed :status 200, how every server here sends it

    def close(self):
        self.sock.close()


def idle_connections(port, pid, count, rss_kib):
    """`count` h2 connections over TLS, each having done one request, then idle: user-space RSS
    growth per connection (bytes), how many answer a second request on a new stream afterwards,
    and how many were opened."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.set_alpn_protocols(["h2"])
    clients = []
    rss_before = rss_kib(pid)
    try:
        for _ in range(count):
            c = IdleClient(port, context)
            clients.append(c)
            c.send(1, "/hello.html")
        first = sum(1 for c in clients if c.answered(1))
        time.sleep(1.0)
        rss_after = rss_kib(pid)
        for c in clients:
            c.send(3, "/hello.html")
        served = sum(1 for c in clients if c.answered(3))
        if first != count:
            served = f"{served} (first request: {first} of {count})"
        return (rss_after - rss_before) * 1024 / count, served
    finally:
        for c in clients:
            c.close()
