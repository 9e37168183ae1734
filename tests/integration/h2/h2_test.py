#!/usr/bin/env python3
"""HTTP/2 end to end against the real weft binary: curl, nghttp and Python's h2.

    h2_test.py --weft BIN CASE      runs one case (the ctest names list them);
                                    exit 0 = pass, 1 = fail (the reason on stderr)
"""

import argparse
import gzip
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h2lib  # noqa: E402  (re-executes under Debian's python3 when h2 is missing)
from h2lib import Client, RawClient, Weft, check, fields, status_of  # noqa: E402

import h2.errors  # noqa: E402

ARGS = None


def make_site():
    root = tempfile.mkdtemp(prefix="weft-h2-")
    with open(os.path.join(root, "a.txt"), "w") as f:
        f.write("hello over two protocols\n")
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(bytes((i * 7 + i // 251) & 0xFF for i in range(300_000)))
    css = b"body { color: #333; }\n" * 200
    with open(os.path.join(root, "style.css"), "wb") as f:
        f.write(css)
    with open(os.path.join(root, "style.css.gz"), "wb") as f:
        f.write(gzip.compress(css, mtime=0))
    os.mkdir(os.path.join(root, "sub"))
    with open(os.path.join(root, "sub", "x.json"), "w") as f:
        f.write('{"x": 1}\n')
    return root


def h1(port, method, path, headers=(), body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=dict(headers, Host="localhost"))
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, fields([(k, v) for k, v in r.getheaders()]), data


def same_answers():
    """The same requests over HTTP/1.1 and HTTP/2: same status, fields and body bytes."""
    root = make_site()
    try:
        with Weft(ARGS.weft, root=root) as files, Weft(ARGS.weft) as builtin:
            etag = dict(h1(files.port, "GET", "/a.txt")[1])["etag"]
            upload = bytes(range(256)) * 800
            cases = [
                (files, "GET", "/a.txt", (), None),
                (files, "HEAD", "/a.txt", (), None),
                (files, "GET", "/big.bin", (), None),
                (files, "GET", "/big.bin", (("range", "bytes=100-199"),), None),
                (files, "GET", "/big.bin", (("range", "bytes=299990-"),), None),
                (files, "GET", "/big.bin", (("range", "bytes=400000-"),), None),
                (files, "GET", "/a.txt", (("if-none-match", etag),), None),
                (files, "GET", "/style.css", (("accept-encoding", "gzip"),), None),
                (files, "GET", "/style.css", (), None),
                (files, "GET", "/", (), None),
                (files, "GET", "/sub", (), None),
                (files, "GET", "/sub/?format=json", (("accept", "application/json"),), None),
                (files, "GET", "/missing", (), None),
                (files, "DELETE", "/a.txt", (), None),
                (files, "GET", "/%zz", (), None),
                (builtin, "GET", "/", (), None),
                (builtin, "HEAD", "/", (), None),
                (builtin, "GET", "/sleep?ms=20", (), None),
                (builtin, "GET", "/sleep?ms=oops", (), None),
                (builtin, "GET", "/events?n=3&ms=1", (), None),
                (builtin, "HEAD", "/events?n=3&ms=1", (), None),
                (builtin, "PUT", "/upload", (), upload),
                (builtin, "POST", "/upload", (), b""),
            ]
            clients = {}
            for server, method, path, headers, body in cases:
                st1, f1, b1 = h1(server.port, method, path, headers, body)
                client = clients.setdefault(server.port, Client(server.port))
                s = client.get(path, headers, method, body)
                check(s.reset is None, f"{method} {path}: stream reset {s.reset}")
                st2, f2, b2 = status_of(s.headers), fields(s.headers), s.data
                what = f"{method} {path} {headers}"
                check(st1 == st2, f"{what}: status {st1} over HTTP/1.1, {st2} over HTTP/2")
                if "multipart" not in dict(f1).get("content-type", ""):
                    check(f1 == f2, f"{what}: fields differ\n  HTTP/1.1 {f1}\n  HTTP/2   {f2}")
                    check(b1 == b2, f"{what}: bodies differ ({len(b1)} and {len(b2)} bytes)")
                if method == "HEAD" or st2 in (204, 304):
                    check(b2 == b"", f"{what}: DATA on a bodiless answer")
            for c in clients.values():
                c.close()
    finally:
        shutil.rmtree(root)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10"] + list(args), capture_output=True, timeout=20)


def curl_prior_knowledge():
    """curl --http2-prior-knowledge on the cleartext port: HTTP/2, the whole body."""
    root = make_site()
    try:
        with Weft(ARGS.weft, root=root) as w:
            r = curl("--http2-prior-knowledge", "-o", "-", "-w", "%{http_version} %{http_code}",
                     f"http://127.0.0.1:{w.port}/big.bin")
            check(r.returncode == 0, r.stderr.decode())
            with open(os.path.join(root, "big.bin"), "rb") as f:
                want = f.read()
            check(r.stdout.endswith(b"2 200"), r.stdout[-20:])
            check(r.stdout[:-5] == want, "body differs")
            # HTTP/1.1 on the same port still works.
            r = curl("-o", "/dev/null", "-w", "%{http_version}", f"http://127.0.0.1:{w.port}/a.txt")
            check(r.stdout == b"1.1", r.stdout)
    finally:
        shutil.rmtree(root)


CERT_DIR = None


def tls_args():
    """A throwaway self-signed P-256 certificate for localhost (openssl, once per run)."""
    global CERT_DIR
    if CERT_DIR is None:
        CERT_DIR = tempfile.mkdtemp(prefix="weft-h2-cert-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-keyout", os.path.join(CERT_DIR, "key.pem"), "-out", os.path.join(CERT_DIR, "cert.pem")],
                       check=True, capture_output=True, timeout=30)
    return ["--tls-cert", os.path.join(CERT_DIR, "cert.pem"), "--tls-key", os.path.join(CERT_DIR, "key.pem")]


def tls_alpn():
    """Over TLS ALPN picks h2 when the client offers it, http/1.1 otherwise."""
    with Weft(ARGS.weft, tls_args()) as w:
        url = f"https://127.0.0.1:{w.port}/"
        r = curl("-k", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url)
        check(r.stdout == b"2 200", r.stdout + r.stderr)
        r = curl("-k", "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", url)
        check(r.stdout == b"1.1 200", r.stdout + r.stderr)
        c = Client(w.port, tls=True)
        check(c.alpn == "h2", f"alpn {c.alpn}")
        s = c.get("/sleep?ms=5")
        check(status_of(s.headers) == 200 and b"<html" in s.data.lower(), s.headers)
        c.close()
        n = subprocess.run(["nghttp", "-n", "-s", url, url + "sleep?ms=5", url + "events?n=2&ms=1"],
                           capture_output=True, timeout=20)
        check(n.returncode == 0, n.stdout + n.stderr)


def no_h2():
    """--no-h2: ALPN offers http/1.1 only, and the preface is not HTTP/2 on a plain port."""
    with Weft(ARGS.weft, ["--no-h2"] + tls_args()) as w:
        r = curl("-k", "--http2", "-o", "/dev/null", "-w", "%{http_version}", f"https://127.0.0.1:{w.port}/")
        check(r.stdout == b"1.1", r.stdout + r.stderr)
    with Weft(ARGS.weft, ["--no-h2"]) as w:
        r = curl("--http2-prior-knowledge", "-o", "/dev/null", f"http://127.0.0.1:{w.port}/")
        check(r.returncode != 0, "HTTP/2 answered with --no-h2")


def many_streams():
    """nghttp: many concurrent streams on one connection, handlers and fixed routes mixed."""
    with Weft(ARGS.weft) as w:
        base = f"http://127.0.0.1:{w.port}"
        urls = []
        for i in range(10):
            urls += [f"{base}/sleep?ms=30&i={i}", f"{base}/?i={i}", f"{base}/events?n=2&ms=1&i={i}"]
        n = subprocess.run(["nghttp", "-n", "-s"] + urls, capture_output=True, timeout=30, text=True)
        check(n.returncode == 0, n.stdout + n.stderr)
        codes = re.findall(r"^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s", n.stdout, re.M)
        check(codes == ["200"] * len(urls), n.stdout)


def stream_error_keeps_connection():
    """A head over the size limit is a 431 on its stream; the connection goes on."""
    with Weft(ARGS.weft) as w:
        c = Client(w.port)
        s = c.get("/", headers=(("x-big", "a" * 30000),))
        check(status_of(s.headers) == 431, s.headers)
        s = c.get("/")
        check(status_of(s.headers) == 200, s.headers)
        check(c.goaway is None, c.goaway)
        c.close()


def upload_does_not_stall_others():
    """An upload left open (its window full) does not hold the other streams."""
    with Weft(ARGS.weft) as w:
        c = Client(w.port)
        up = c.request("PUT", "/upload", body=b"x" * 60000, end=False)
        for _ in range(3):
            s = c.get("/sleep?ms=1")
            check(status_of(s.headers) == 200, s.headers)
        c.send_body(up, b"y" * 200000, end=True)
        check(c.run_until(lambda: c.streams[up].ended), "the upload never ended")
        check(b'"bytes": 260000' in c.streams[up].data, c.streams[up].data)
        c.close()


def access_log_and_version():
    """The access log says HTTP/2.0 for HTTP/2 requests."""
    d = tempfile.mkdtemp(prefix="weft-h2-log-")
    try:
        log = os.path.join(d, "access.log")
        with Weft(ARGS.weft, ["--access-log", log]) as w:
            c = Client(w.port)
            c.get("/sleep?ms=1")
            c.get("/")
            c.close()
            h1(w.port, "GET", "/")
            check(w.stop() == 0, "weft did not exit 0")
        with open(log) as f:
            lines = f.read().splitlines()
        check(sum('"GET /sleep?ms=1 HTTP/2.0" 200' in x for x in lines) == 1, lines)
        check(sum('"GET / HTTP/2.0" 200' in x for x in lines) == 1, lines)
        check(sum('"GET / HTTP/1.1" 200' in x for x in lines) == 1, lines)
    finally:
        shutil.rmtree(d)


def goaway_drain():
    """SIGTERM: GOAWAY with the last stream id; the stream in flight still finishes; exit 0."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        c.send(c.get_frame("/events?n=12&ms=100", 1))
        check(c.run_until(lambda: len(c.data.get(1, b"")) > 0), "no first event")
        w.proc.send_signal(15)
        check(c.run_until(lambda: c.goaway is not None, 5), "no GOAWAY after SIGTERM")
        check(c.goaway == (1, 0), f"GOAWAY {c.goaway}")
        check(c.run_until(lambda: 1 in c.ended, 8), "the stream in flight did not finish")
        check(c.status(1) == 200 and c.data[1].count(b"data: ") == 12, c.data.get(1))
        check(c.run_until(lambda: c.closed, 5), "the connection stayed open after its last stream")
        check(w.proc.wait(10) == 0, "weft did not exit 0")


def ping_and_idle():
    """PING is answered; an idle connection gets GOAWAY and is closed after --keepalive-timeout."""
    with Weft(ARGS.weft, ["--keepalive-timeout", "1"]) as w:
        c = Client(w.port)
        c.conn.ping(b"12345678")
        c.flush()
        check(c.run_until(lambda: any(isinstance(e, h2.events.PingAckReceived) for e in c.events)), "no PING ack")
        start = time.monotonic()
        check(c.run_until(lambda: c.closed, 6), "idle connection not closed")
        check(time.monotonic() - start >= 0.5, "closed too early")
        check(c.goaway is not None and c.goaway[0] == 0, f"GOAWAY {c.goaway}")


def reset_cancels_handler():
    """A stream reset by the client cancels its handler; the connection serves on."""
    with Weft(ARGS.weft) as w:
        c = Client(w.port)
        sid = c.request("GET", "/events?n=1000&ms=5")
        s = c.streams[sid]
        check(c.run_until(lambda: len(s.data) > 0), "no event")
        c.conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        c.flush()
        s2 = c.get("/")
        check(status_of(s2.headers) == 200, s2.headers)
        c.close()


# ---- frame level: RFC 9113 rules and defences (RawClient) ----

PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, ENHANCE_YOUR_CALM = 1, 3, 6, 11


def expect_goaway(w, frames, code, what):
    c = RawClient(w.port)
    c.send(b"".join(frames))
    check(c.run_until(lambda: c.goaway is not None and c.closed, 5), f"{what}: no GOAWAY and close")
    check(c.goaway[1] == code, f"{what}: GOAWAY error {c.goaway[1]}, expected {code}")
    c.close()


def raw_exchange(connect, payload):
    """Sends `payload` on a new connection and reads until the server closes (bounded)."""
    s = connect()
    s.sendall(payload)
    s.settimeout(5)
    data = b""
    try:
        while True:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    s.close()
    return data


def tls_connect(port, alpn):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="localhost")


def bad_preface_over_tls():
    """3.4: after ALPN h2 the client must send the preface; anything else ends the connection."""
    with Weft(ARGS.weft, tls_args()) as w:
        data = raw_exchange(lambda: tls_connect(w.port, "h2"), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        check(b"HTTP/1.1" not in data, f"answered as HTTP/1.1: {data[:60]!r}")
        # Only the server's SETTINGS, WINDOW_UPDATE and GOAWAY came: frames, no response.
        pos = 0
        while pos + 9 <= len(data):
            check(data[pos + 3] in (4, 7, 8), f"frame type {data[pos + 3]} after a bad preface")
            pos += 9 + int.from_bytes(data[pos:pos + 3], "big")


def rfc9113_connection_errors():
    """Connection errors (GOAWAY, then close) for the frames RFC 9113 says are one."""
    f = RawClient.frame
    so = socket
    with Weft(ARGS.weft) as w:
        probe = RawClient(w.port)
        ok = probe.get_frame("/", 1)
        probe.close()
        # 6.1: DATA on stream 0. 6.2: HEADERS on stream 0. 5.1.1: an even (server) stream id.
        expect_goaway(w, [f(0, 1, 0, b"x")], PROTOCOL_ERROR, "DATA on stream 0")
        enc = RawClient(w.port)
        expect_goaway(w, [enc.get_frame("/", 0)], PROTOCOL_ERROR, "HEADERS on stream 0")
        enc = RawClient(w.port)
        expect_goaway(w, [enc.get_frame("/", 2)], PROTOCOL_ERROR, "HEADERS on an even stream")
        # 5.1.1: stream ids that go down.
        enc = RawClient(w.port)
        expect_goaway(w, [enc.get_frame("/", 5), enc.get_frame("/", 3)], PROTOCOL_ERROR, "stream id going down")
        # 5.1: DATA on an idle stream.
        expect_goaway(w, [f(0, 1, 7, b"x")], PROTOCOL_ERROR, "DATA on an idle stream")
        # 6.9: a WINDOW_UPDATE of 0 on the connection.
        expect_goaway(w, [f(8, 0, 0, (0).to_bytes(4, "big"))], PROTOCOL_ERROR, "WINDOW_UPDATE of 0")
        # 6.9.1: a window past 2^31-1.
        expect_goaway(w, [f(8, 0, 0, (0x7FFFFFFF).to_bytes(4, "big"))], FLOW_CONTROL_ERROR, "window overflow")
        # 6.5: SETTINGS whose length is not a multiple of 6; a SETTINGS ACK with a payload.
        expect_goaway(w, [f(4, 0, 0, b"\x00\x03\x00\x00\x00")], FRAME_SIZE_ERROR, "SETTINGS length 5")
        expect_goaway(w, [f(4, 1, 0, b"\x00\x03\x00\x00\x00\x01")], FRAME_SIZE_ERROR, "SETTINGS ACK with payload")
        # 6.5.2: SETTINGS_ENABLE_PUSH other than 0 or 1; an initial window past 2^31-1.
        expect_goaway(w, [f(4, 0, 0, b"\x00\x02\x00\x00\x00\x02")], PROTOCOL_ERROR, "ENABLE_PUSH 2")
        expect_goaway(w, [f(4, 0, 0, b"\x00\x04\x80\x00\x00\x00")], FLOW_CONTROL_ERROR, "INITIAL_WINDOW_SIZE 2^31")
        # 6.7: PING with a length other than 8; on a stream.
        expect_goaway(w, [f(6, 0, 0, b"1234567")], FRAME_SIZE_ERROR, "PING of 7 bytes")
        expect_goaway(w, [f(6, 0, 1, b"12345678")], PROTOCOL_ERROR, "PING on a stream")
        # 6.10: a CONTINUATION that follows no HEADERS; a frame between HEADERS and CONTINUATION.
        expect_goaway(w, [f(9, 4, 1, b"")], PROTOCOL_ERROR, "CONTINUATION alone")
        enc = RawClient(w.port)
        head = enc.block([(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")])
        expect_goaway(w, [f(1, 1, 1, head), f(6, 0, 0, b"12345678")], PROTOCOL_ERROR, "PING inside a header block")
        # 4.3: a header block that does not decode (an index past the tables).
        expect_goaway(w, [f(1, 5, 1, b"\xff\x7f")], 9, "HPACK garbage")  # COMPRESSION_ERROR
        # 3.4: on a cleartext port a connection is HTTP/1.1 until the whole preface has come: an
        # almost-preface is an HTTP/1.1 request of version 2.0 (505), never HTTP/2.
        data = raw_exchange(lambda: so.create_connection(("127.0.0.1", w.port), timeout=5),
                            b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + f(4, 0, 0))
        check(data.startswith(b"HTTP/1.1 505 "), f"bad preface answered {data[:40]!r}")
        # Still serving.
        c = RawClient(w.port)
        c.send(ok)
        check(c.run_until(lambda: 1 in c.ended) and c.status(1) == 200, "not serving afterwards")
        c.close()


def rfc9113_malformed_requests():
    """Malformed requests (RFC 9113 8.1.1, 8.2, 8.3) are stream errors; the connection lives on."""
    base = [(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "localhost")]
    cases = [
        ("upper-case field name", base + [("X-Upper", "1")]),
        ("connection field", base + [("connection", "keep-alive")]),
        ("keep-alive field", base + [("keep-alive", "1")]),
        ("transfer-encoding field", base + [("transfer-encoding", "chunked")]),
        ("upgrade field", base + [("upgrade", "h2c")]),
        ("te other than trailers", base + [("te", "gzip")]),
        ("pseudo-header after a field", base[:3] + [("x-a", "1"), (":authority", "localhost")]),
        ("no :path", [h for h in base if h[0] != ":path"]),
        ("empty :path", [(":method", "GET"), (":path", ""), (":scheme", "http"), (":authority", "x")]),
        ("two :path", base + [(":path", "/again")]),
        ("unknown pseudo-header", base + [(":foo", "bar")]),
        ("response pseudo-header", base + [(":status", "200")]),
        ("no :method", [h for h in base if h[0] != ":method"]),
        ("field value with CR LF", base + [("x-a", "a\r\nb")]),
        ("field value with NUL", base + [("x-a", "a\x00b")]),
    ]
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        sid = 1
        for what, headers in cases:
            c.send(c.headers_frame(sid, headers))
            check(c.run_until(lambda: sid in c.resets or sid in c.ended, 5), f"{what}: no answer")
            check(c.resets.get(sid) == PROTOCOL_ERROR,
                  f"{what}: expected RST_STREAM PROTOCOL_ERROR, got {c.resets.get(sid)} / {c.status(sid)}")
            sid += 2
        # 8.1.1: content-length against the DATA received.
        c.send(c.headers_frame(sid, [(":method", "PUT"), (":path", "/upload"), (":scheme", "http"),
                                     (":authority", "x"), ("content-length", "10")], end_stream=False))
        c.send(RawClient.frame(0, 1, sid, b"12345"))
        check(c.run_until(lambda: sid in c.resets, 5), "short body against content-length: no reset")
        check(c.resets[sid] == PROTOCOL_ERROR, f"content-length: reset {c.resets[sid]}")
        sid += 2
        # te: trailers is allowed; and the connection still serves.
        c.send(c.headers_frame(sid, base + [("te", "trailers")]))
        check(c.run_until(lambda: sid in c.ended, 5) and c.status(sid) == 200, "te: trailers refused")
        check(c.goaway is None, f"GOAWAY {c.goaway}")
        c.close()


def header_table_size_zero():
    """SETTINGS_HEADER_TABLE_SIZE 0 (RFC 7541 4.2): the server's encoder uses no dynamic table."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port, settings=b"\x00\x01\x00\x00\x00\x00")
        c.decoder.max_allowed_table_size = 0
        for sid in (1, 3, 5):
            c.send(c.get_frame("/", sid))
            check(c.run_until(lambda: sid in c.ended, 5), "no answer")
            check(c.status(sid) == 200, c.headers.get(sid))
        c.close()


def rapid_reset():
    """CVE-2023-44487: streams opened and reset at once get GOAWAY ENHANCE_YOUR_CALM, close."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        burst = b""
        for i in range(600):
            sid = 1 + 2 * i
            burst += c.get_frame(f"/sleep?ms=3000&i={i}", sid) + RawClient.frame(3, 0, sid, (8).to_bytes(4, "big"))
        c.send(burst)
        check(c.run_until(lambda: c.goaway is not None and c.closed, 10), "no GOAWAY and close")
        check(c.goaway[1] == ENHANCE_YOUR_CALM, f"GOAWAY {c.goaway}")
        c.close()
        # The reset handlers were cancelled, not left to sleep: a new client is served at once.
        d = Client(w.port)
        s = d.get("/")
        check(status_of(s.headers) == 200, s.headers)
        d.close()


def continuation_flood():
    """CVE-2024-27316 family: a header block of endless CONTINUATION frames ends the connection."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        head = c.block([(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x")])
        frames = [RawClient.frame(1, 1, 1, head)]
        filler = c.block([("x-filler", "a" * 100)])
        frames += [RawClient.frame(9, 0, 1, filler)] * 200
        c.send(b"".join(frames))
        check(c.run_until(lambda: c.closed, 5), "connection not closed")
        check(c.goaway is not None and c.goaway[1] == ENHANCE_YOUR_CALM, f"GOAWAY {c.goaway}")
        check(1 not in c.ended, "the endless header block was answered")


def hpack_bomb():
    """A small header block that decodes to megabytes: its stream is reset, the connection lives."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        block = c.block([(":method", "GET"), (":path", "/"), (":scheme", "http"), (":authority", "x"),
                         ("x-bomb", "a" * 4000)])
        block += b"\xbe" * 12000  # index 62: the 4 KB entry just added, 12000 times (48 MB)
        c.send(RawClient.frame(1, 5, 1, block))
        check(c.run_until(lambda: 1 in c.resets or 1 in c.ended, 5), "no answer to the bomb")
        check(1 in c.resets or c.status(1) == 431, f"bomb answered {c.status(1)}")
        c.send(c.get_frame("/", 3))
        check(c.run_until(lambda: 3 in c.ended, 5) and c.status(3) == 200, "connection unusable after")
        c.close()


def ping_flood():
    """A client that sends PINGs and never reads the ACKs is closed (nghttp2's queued-ACK limit)."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        ping = RawClient.frame(6, 0, 0, b"12345678") * 4096
        c.sock.settimeout(0.5)
        sent = 0
        deadline = time.monotonic() + 15
        closed = False
        while time.monotonic() < deadline:
            try:
                c.sock.sendall(ping)
                sent += len(ping)
            except socket.timeout:
                continue  # the server stopped reading for now; it must close soon
            except OSError:
                closed = True
                break
        check(closed, f"still open after {sent} bytes of PING")


def empty_data_flood():
    """Empty DATA frames without END_STREAM: GOAWAY ENHANCE_YOUR_CALM."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        c.send(c.headers_frame(1, [(":method", "PUT"), (":path", "/upload"), (":scheme", "http"),
                                   (":authority", "x")], end_stream=False))
        c.send(RawClient.frame(0, 0, 1, b"") * 1000)
        check(c.run_until(lambda: c.goaway is not None, 5), "no GOAWAY")
        check(c.goaway[1] == ENHANCE_YOUR_CALM, f"GOAWAY {c.goaway}")


def zero_window_stall():
    """A client whose window stays 0 is closed by the write timer."""
    with Weft(ARGS.weft, ["--write-timeout", "1"]) as w:
        c = RawClient(w.port, settings=b"\x00\x04\x00\x00\x00\x00")  # INITIAL_WINDOW_SIZE 0
        c.send(c.get_frame("/events?n=1000&ms=1", 1))
        start = time.monotonic()
        check(c.run_until(lambda: c.closed, 8), "stalled connection not closed")
        check(time.monotonic() - start >= 0.5, "closed before the write timeout")
        check(not c.data.get(1), "DATA sent into a zero window")


def max_concurrent_streams():
    """5.1.2: SETTINGS_MAX_CONCURRENT_STREAMS is advertised (--h2-max-streams); streams within it
    are served, and a HEADERS past it is refused. RFC 9113 asks for a stream error; nghttp2 1.52
    answers REFUSED_STREAM only before the client acknowledged the SETTINGS, and a connection
    error (GOAWAY PROTOCOL_ERROR) after, which is what a client that ignores the limit gets."""
    with Weft(ARGS.weft, ["--h2-max-streams", "2"]) as w:
        c = RawClient(w.port)
        check(c.run_until(lambda: any(f[0] == 4 and f[3] for f in c.frames)), "no SETTINGS")
        settings = next(f[3] for f in c.frames if f[0] == 4 and f[3])
        advertised = {int.from_bytes(settings[i:i + 2], "big"): int.from_bytes(settings[i + 2:i + 6], "big")
                      for i in range(0, len(settings), 6)}
        check(advertised.get(3) == 2, f"SETTINGS {advertised}")
        c.send(b"".join(c.get_frame(f"/sleep?ms=100&i={i}", 1 + 2 * i) for i in range(2)))
        check(c.run_until(lambda: 1 in c.ended and 3 in c.ended, 10), "streams within the limit unanswered")
        check(c.status(1) == 200 and c.status(3) == 200, (c.status(1), c.status(3)))
        c.send(b"".join(c.get_frame(f"/sleep?ms=500&j={i}", 5 + 2 * i) for i in range(3)))
        check(c.run_until(lambda: 9 in c.resets or c.goaway is not None, 10), "the third stream was not refused")
        check(c.resets.get(9) == 7 or c.goaway == (7, PROTOCOL_ERROR), f"resets {c.resets}, GOAWAY {c.goaway}")
        c.close()


def priorities():
    """RFC 9218: a small urgent response goes before a large one of low urgency asked for first,
    by the priority field and by PRIORITY_UPDATE; with equal priorities the order is the request
    order (the control that shows the fields made the difference)."""
    root = make_site()
    try:
        with Weft(ARGS.weft, root=root) as w:
            def first_data_stream(frames_out):
                c = RawClient(w.port)
                c.send(frames_out(c))
                check(c.run_until(lambda: 1 in c.ended and 3 in c.ended, 10), "answers incomplete")
                check(c.status(1) == 200 and c.status(3) == 200, (c.status(1), c.status(3)))
                c.close()
                return next(f[2] for f in c.frames if f[0] == 0 and f[2] in (1, 3))

            by_field = first_data_stream(lambda c: c.get_frame("/big.bin", 1, extra=[("priority", "u=7")]) +
                                         c.get_frame("/a.txt", 3, extra=[("priority", "u=0")]))
            check(by_field == 3, "the urgent response did not go first (priority field)")
            update = RawClient.frame(16, 0, 0, (3).to_bytes(4, "big") + b"u=0")
            by_frame = first_data_stream(lambda c: update + c.get_frame("/big.bin", 1) + c.get_frame("/a.txt", 3))
            check(by_frame == 3, "the urgent response did not go first (PRIORITY_UPDATE)")
            control = first_data_stream(lambda c: c.get_frame("/big.bin", 1) + c.get_frame("/a.txt", 3))
            check(control == 1, "without priorities the first request did not go first")
    finally:
        shutil.rmtree(root)



# ---- request semantics over HTTP/2 (RFC 9113 8) ----

NO_ERROR = 0


def unread_body_reset():
    """8.1: a body sent to a route that answers without reading it (the built-in page, a 404):
    the whole answer, then RST_STREAM NO_ERROR; the bytes still arriving are dropped and their
    window given back, so more bodies than the 16 MiB connection window fit, and the connection
    serves on."""
    with Weft(ARGS.weft) as w:
        c = RawClient(w.port)
        body = b"b" * 16000
        sid = 1
        total = 0
        for _batch in range(8):
            sids = []
            frames = b""
            for i in range(48):
                path = "/" if i % 2 == 0 else "/no-such-page"
                frames += c.headers_frame(sid, [(":method", "POST"), (":path", path), (":scheme", "http"),
                                                (":authority", "localhost")], end_stream=False)
                for _ in range(3):
                    frames += RawClient.frame(0, 0, sid, body)
                    total += len(body)
                sids.append(sid)
                sid += 2
            c.send(frames)
            check(c.run_until(lambda: all(s in c.resets for s in sids) or c.goaway is not None, 20),
                  f"streams not reset after their answers: {len([s for s in sids if s not in c.resets])} left")
            check(c.goaway is None, f"GOAWAY {c.goaway} after {total} body bytes")
            for s in sids:
                check(c.resets[s] == NO_ERROR, f"stream {s}: RST_STREAM {c.resets[s]}")
                check(s in c.ended, f"stream {s}: answer not complete before the reset")
            check(c.status(sids[0]) in (200, 405), f"/ answered {c.status(sids[0])}")
            check(c.status(sids[1]) == 404, f"/no-such-page answered {c.status(sids[1])}")
        check(total > 16 * 1024 * 1024, f"only {total} bytes sent")
        c.send(c.get_frame("/", sid))
        check(c.run_until(lambda: sid in c.ended, 5) and c.status(sid) == 200, "the connection is unusable after")
        c.close()


def write_config(d, text):
    path = os.path.join(d, "weft.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def authority_and_host():
    """8.3.1: :authority picks the virtual host, as Host does over HTTP/1.1; a host field that
    names the same authority is fine, another one makes the request malformed (answered 400); a
    request with neither is malformed too (reset); with only host, host picks the site."""
    d = tempfile.mkdtemp(prefix="weft-h2-vhost-")
    try:
        for name in ("a", "b"):
            os.mkdir(os.path.join(d, name))
            with open(os.path.join(d, name, "which.txt"), "w") as f:
                f.write(f"site {name}\n")
        config = write_config(d, f'[[site]]\nhosts = ["a.test"]\nroot = "{d}/a"\n\n'
                                 f'[[site]]\nhosts = ["b.test"]\nroot = "{d}/b"\n')
        with Weft(ARGS.weft, ["--config", config]) as w:
            c = RawClient(w.port)

            def ask(sid, pseudo, extra=()):
                c.send(c.headers_frame(sid, [(":method", "GET"), (":path", "/which.txt"), (":scheme", "http")]
                                       + list(pseudo) + list(extra)))
                check(c.run_until(lambda: sid in c.ended or sid in c.resets, 5), f"stream {sid} unanswered")
                return c.status(sid), c.data.get(sid, b"")

            check(ask(1, [(":authority", "a.test")]) == (200, b"site a\n"), "a.test")
            check(ask(3, [(":authority", "b.test")]) == (200, b"site b\n"), "b.test")
            check(ask(5, [(":authority", "B.Test")], [("host", "b.test")]) == (200, b"site b\n"),
                  "the same authority in host")
            st, _ = ask(7, [(":authority", "a.test")], [("host", "b.test")])
            check(st == 400, f":authority a.test with host b.test answered {st}")
            check(ask(9, [], [("host", "b.test")]) == (200, b"site b\n"), "host alone")
            # Malformed (8.3.1, 8.1.1): nghttp2 resets the stream, PROTOCOL_ERROR, before any answer.
            st, _ = ask(11, [])
            check(st is None and c.resets.get(11) == PROTOCOL_ERROR, f"no authority: {st}, {c.resets.get(11)}")
            check(ask(13, [(":authority", "a.test")]) == (200, b"site a\n"), "the connection after the errors")
            # Compared as RFC 3986 6.2 normalises: the scheme's default port, or an empty one, is
            # the same as none; another port is another authority.
            check(ask(15, [(":authority", "a.test")], [("host", "a.test:80")]) == (200, b"site a\n"),
                  "host with the default port")
            check(ask(17, [(":authority", "a.test:80")], [("host", "A.TEST:")]) == (200, b"site a\n"),
                  ":authority with the default port, host with an empty one")
            st, _ = ask(19, [(":authority", "a.test")], [("host", "a.test:8080")])
            check(st == 400, f":authority a.test with host a.test:8080 answered {st}")
            check(c.goaway is None, f"GOAWAY {c.goaway}")
            c.close()
    finally:
        shutil.rmtree(d)


def max_requests_per_connection():
    """--max-requests-per-connection N: after N streams, GOAWAY NO_ERROR naming the Nth; the
    streams up to it are answered, later ones are not started (the client retries them on a new
    connection), and the connection closes once they are done."""
    with Weft(ARGS.weft, ["--max-requests-per-connection", "3"]) as w:
        c = RawClient(w.port)
        c.send(b"".join(c.get_frame(f"/sleep?ms=50&i={i}", 1 + 2 * i) for i in range(5)))
        check(c.run_until(lambda: c.goaway is not None, 5), "no GOAWAY after 3 requests")
        check(c.goaway == (5, NO_ERROR), f"GOAWAY {c.goaway}")
        check(c.run_until(lambda: c.closed, 5), "the connection stayed open")
        for sid in (1, 3, 5):
            check(sid in c.ended and c.status(sid) == 200, f"stream {sid}: {c.status(sid)}")
        for sid in (7, 9):
            check(c.status(sid) is None, f"stream {sid} past the limit answered {c.status(sid)}")
        c.close()
        d = Client(w.port)
        for i in range(2):
            s = d.get(f"/?again={i}")
            check(status_of(s.headers) == 200, s.headers)
        d.close()


def expect_continue():
    """8.1: Expect: 100-continue to a handler that reads the body: a 100 HEADERS, then the body is
    read; to a route that answers without it: the final status at once, then RST_STREAM
    NO_ERROR, and no 100."""
    with Weft(ARGS.weft) as w:
        c = Client(w.port)
        sid = c.request("PUT", "/upload", headers=(("expect", "100-continue"),), end=False)
        interim = lambda: [e for e in c.events if isinstance(e, h2.events.InformationalResponseReceived)
                           and e.stream_id == sid]
        check(c.run_until(lambda: interim(), 5), "no 100 before the body")
        check(status_of(interim()[0].headers) == 100, interim()[0].headers)
        check(c.streams[sid].headers is None, "a final answer before the body")
        c.send_body(sid, b"z" * 70000, end=True)
        s = c.streams[sid]
        check(c.run_until(lambda: s.ended, 10), "no answer after the body")
        check(status_of(s.headers) == 200 and b'"bytes": 70000' in s.data, (s.headers, s.data))
        c.close()
        r = RawClient(w.port)
        r.send(r.headers_frame(1, [(":method", "POST"), (":path", "/no-such-page"), (":scheme", "http"),
                                   (":authority", "localhost"), ("expect", "100-continue"),
                                   ("content-length", "5000")], end_stream=False))
        check(r.run_until(lambda: 1 in r.resets, 5), "no answer then reset")
        check(r.status(1) == 404 and r.resets[1] == NO_ERROR, (r.status(1), r.resets))
        statuses = [v for k, v in r.headers.get(1, []) if k == ":status"]
        check(statuses == ["404"], f"the first HEADERS said {statuses}, not the final 404")
        r.close()


def drain_idle_grace():
    """SIGTERM with --drain-idle-grace: an idle connection gets the shutdown notice (GOAWAY with
    the highest stream id), a request still sent on it is answered, then the final GOAWAY naming
    it and the close; a connection that stays idle is closed when the grace ends; exit 0."""
    with Weft(ARGS.weft, ["--drain-idle-grace", "2"]) as w:
        busy = RawClient(w.port)
        idle = RawClient(w.port)
        busy.send(busy.get_frame("/", 1))
        idle.send(idle.get_frame("/", 1))
        check(busy.run_until(lambda: 1 in busy.ended, 5) and idle.run_until(lambda: 1 in idle.ended, 5),
              "no answers before the drain")
        w.proc.send_signal(15)
        start = time.monotonic()
        check(busy.run_until(lambda: busy.goaway is not None, 5), "no shutdown notice")
        check(busy.goaway == (0x7FFFFFFF, NO_ERROR), f"notice {busy.goaway}")
        check(not busy.closed, "closed at once")
        busy.send(busy.get_frame("/sleep?ms=200", 3))
        check(busy.run_until(lambda: 3 in busy.ended, 5) and busy.status(3) == 200, "the late request unanswered")
        check(busy.run_until(lambda: busy.goaway == (3, NO_ERROR), 5), f"final GOAWAY {busy.goaway}")
        check(busy.run_until(lambda: busy.closed, 5), "not closed after its last stream")
        check(idle.run_until(lambda: idle.goaway is not None, 5), "no notice on the idle connection")
        check(idle.run_until(lambda: idle.closed, 6), "the idle connection not closed after the grace")
        waited = time.monotonic() - start
        check(waited >= 1.5, f"the idle connection closed after {waited:.2f} s, before the grace")
        check(idle.goaway == (1, NO_ERROR), f"final GOAWAY of the idle connection {idle.goaway}")
        check(w.proc.wait(10) == 0, "weft did not exit 0")


def lingering_close():
    """After its last frame (GOAWAY, every stream answered) weft half-closes and drops what the
    client still sends until the client closes: closing with input unread would reset the
    connection (and a reset may throw away answers sent but not yet delivered). Here the request
    is followed at once by 2 MiB of frames of an unknown type (which a server ignores, RFC 9113
    5.5), more than weft reads in one turn, so its session ends with input unread: the client's
    send must complete and the connection end with a FIN, never a reset."""
    with Weft(ARGS.weft, ["--max-requests-per-connection", "1"]) as w:
        for attempt in range(3):
            c = RawClient(w.port)
            filler = c.frame(0xFA, 0, 0, b"x" * 16384) * 128
            try:
                c.sock.sendall(c.get_frame("/", 1) + filler)
            except OSError as e:
                check(False, f"attempt {attempt}: the send was cut: {e}")
            c.sock.settimeout(5)
            while True:
                try:
                    data = c.sock.recv(65536)
                except OSError as e:
                    check(False, f"attempt {attempt}: the connection ended with {e}, not a FIN")
                if not data:
                    break
                c.feed(data)
            check(c.goaway == (1, NO_ERROR), f"attempt {attempt}: GOAWAY {c.goaway}")
            check(1 in c.ended and c.status(1) == 200, f"attempt {attempt}: stream 1: {c.status(1)}")
            c.close()


CASES = {f.__name__: f for f in [same_answers, lingering_close, curl_prior_knowledge, tls_alpn, no_h2, many_streams,
                                  stream_error_keeps_connection, upload_does_not_stall_others,
                                  access_log_and_version, goaway_drain, ping_and_idle,
                                  reset_cancels_handler, rfc9113_connection_errors,
                                  rfc9113_malformed_requests, header_table_size_zero, rapid_reset,
                                  continuation_flood, hpack_bomb, ping_flood, empty_data_flood,
                                  zero_window_stall, bad_preface_over_tls, priorities,
                                  max_concurrent_streams, unread_body_reset, authority_and_host,
                                  max_requests_per_connection, expect_continue, drain_idle_grace]}


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--weft", required=True)
    p.add_argument("case", choices=sorted(CASES))
    ARGS = p.parse_args()
    try:
        CASES[ARGS.case]()
    except AssertionError as e:
        print(f"FAIL {ARGS.case}: {e}", file=sys.stderr)
        return 1
    finally:
        if CERT_DIR:
            shutil.rmtree(CERT_DIR, ignore_errors=True)
    print(f"ok {ARGS.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
