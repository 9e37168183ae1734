"""Helpers for the HTTP/2 tests: a weft process on a free port, and a small HTTP/2 client on
Python's h2 library (Debian python3-h2) that keeps every frame-level event for the checks.
Every wait has a deadline."""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

try:
    import h2.config
    import h2.connection
    import h2.events
    import h2.exceptions
    import h2.settings
except ImportError:  # a python3 other than Debian's (pyenv...): run again under Debian's
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class Weft:
    """A weft process on 127.0.0.1, port chosen by the kernel (read from its first line)."""

    def __init__(self, binary, args=(), root=None):
        cmd = [binary, "--port", "0", "--loops", "1", "--threads", "4"] + list(args)
        if root:
            cmd.append(root)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"https?://127\.0\.0\.1:(\d+)/", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("weft did not start: " + line + self.proc.stderr.read())
        self.port = int(m.group(1))

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            return
        # A case that passed still fails when weft did not drain and exit 0, or a sanitizer
        # (TSan, ASan) reported something on its way out.
        code = self.stop(timeout=20)
        err = self.proc.stderr.read()
        if code != 0 or "Sanitizer" in err:
            raise AssertionError(f"weft exited {code}: {err[-2000:]}")


class Stream:
    def __init__(self):
        self.headers = None
        self.data = b""
        self.ended = False
        self.reset = None  # error code of a RST_STREAM from the server


class Client:
    """One HTTP/2 connection (cleartext with prior knowledge, or TLS with ALPN h2)."""

    def __init__(self, port, tls=False, settings=None, raw_preface=True, timeout=10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            self.alpn = sock.selected_alpn_protocol()
        self.sock = sock
        self.timeout = timeout
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        self.streams = {}
        self.goaway = None  # (error_code, last_stream_id)
        self.closed = False
        self.events = []
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send_raw(self, data):
        self.sock.sendall(data)

    def request(self, method, path, headers=(), body=None, end=True, authority="localhost"):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(b":method", method.encode()), (b":path", path.encode()), (b":scheme", b"http"),
                (b":authority", authority.encode())]
        hdrs += [(k.encode() if isinstance(k, str) else k, v.encode() if isinstance(v, str) else v)
                 for k, v in headers]
        self.streams[sid] = Stream()
        self.conn.send_headers(sid, hdrs, end_stream=body is None and end)
        if body is not None:
            self.send_body(sid, body, end)
        self.flush()
        return sid

    def send_body(self, sid, body, end=True):
        """Sends as much of `body` as the windows allow, reading meanwhile; bounded."""
        deadline = time.monotonic() + self.timeout
        while body:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("the server never opened its window")
                self.read_once(0.2)
                continue
            chunk, body = body[:window], body[window:]
            self.conn.send_data(sid, chunk)
            self.flush()
        if end:
            self.conn.end_stream(sid)
            self.flush()

    def read_once(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.closed = True
            return False
        if not data:
            self.closed = True
            return False
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for ev in events:
            self.events.append(ev)
            sid = getattr(ev, "stream_id", None)
            s = self.streams.get(sid)
            if isinstance(ev, h2.events.ResponseReceived) and s:
                s.headers = ev.headers
            elif isinstance(ev, h2.events.DataReceived):
                if s:
                    s.data += ev.data
                if ev.flow_controlled_length:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and s:
                s.ended = True
            elif isinstance(ev, h2.events.StreamReset) and s:
                s.reset = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = (ev.error_code, ev.last_stream_id)
        try:
            self.flush()
        except OSError:
            self.closed = True
            return False
        return True

    def run_until(self, predicate, timeout=None):
        """Reads until predicate() holds (True) or the deadline passes / the connection ends."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not predicate():
            if time.monotonic() > deadline or self.closed:
                return predicate()
            self.read_once(min(0.2, max(0.01, deadline - time.monotonic())))
        return True

    def get(self, path, headers=(), method="GET", body=None):
        sid = self.request(method, path, headers, body)
        s = self.streams[sid]
        if not self.run_until(lambda: s.ended or s.reset is not None):
            raise AssertionError(f"no answer to {method} {path}")
        return s

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def fields(headers, drop=("date", "connection", "keep-alive", "transfer-encoding")):
    """Lower-cased (name, value) pairs as text, without the connection-specific and Date ones."""
    out = []
    for k, v in headers:
        k = (k.decode() if isinstance(k, bytes) else k).lower()
        v = v.decode() if isinstance(v, bytes) else v
        if k in drop or k.startswith(":"):
            continue
        out.append((k, v))
    return out


def status_of(headers):
    for k, v in headers:
        if k in (b":status", ":status"):
            return int(v)
    return None


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class RawClient:
    """HTTP/2 at the frame level, for what a well-behaved client library will not send (and to
    go on reading after a GOAWAY, where h2's state machine stops). Frames are built by hand;
    received ones are parsed with hyperframe, header blocks decoded with hpack."""

    def __init__(self, port, settings=b"", timeout=10):
        import hpack
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.frames = []  # (type, flags, stream_id, payload)
        self.headers = {}  # stream id -> decoded header list of its first HEADERS
        self.data = {}
        self.ended = set()
        self.resets = {}
        self.goaway = None  # (last_stream_id, error_code)
        self.closed = False
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.sock.sendall(PREFACE + self.frame(4, 0, 0, settings))

    @staticmethod
    def frame(ftype, flags, sid, payload=b""):
        return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload

    def block(self, headers):
        return self.encoder.encode(headers)

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def headers_frame(self, sid, headers, end_stream=True, end_headers=True):
        flags = (1 if end_stream else 0) | (4 if end_headers else 0)
        return self.frame(1, flags, sid, self.block(headers))

    def get_frame(self, path, sid, method="GET", extra=()):
        return self.headers_frame(sid, [(":method", method), (":path", path), (":scheme", "http"),
                                        (":authority", "localhost")] + list(extra))

    def read_once(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        except OSError:
            self.closed = True
            return
        if not data:
            self.closed = True
            return
        self.feed(data)

    def feed(self, data):
        """Parses received bytes into frames (on_frame for each)."""
        self.buf += data
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + length:
                break
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            self.frames.append((ftype, flags, sid, payload))
            self.on_frame(ftype, flags, sid, payload)

    def on_frame(self, ftype, flags, sid, payload):
        if ftype == 4 and not flags & 1:  # SETTINGS: acknowledge
            self.send(self.frame(4, 1, 0))
        elif ftype == 1:  # HEADERS (the server sends no padding or priority)
            self.headers.setdefault(sid, self.decoder.decode(payload))
        elif ftype == 0:
            self.data[sid] = self.data.get(sid, b"") + payload
            if payload:  # keep the windows open
                inc = len(payload).to_bytes(4, "big")
                self.send(self.frame(8, 0, 0, inc) + self.frame(8, 0, sid, inc))
        elif ftype == 3:
            self.resets[sid] = int.from_bytes(payload[:4], "big")
        elif ftype == 7:
            self.goaway = (int.from_bytes(payload[:4], "big") & 0x7FFFFFFF, int.from_bytes(payload[4:8], "big"))
        if ftype in (0, 1) and flags & 1:
            self.ended.add(sid)

    def run_until(self, predicate, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while not predicate():
            if time.monotonic() > deadline or self.closed:
                return predicate()
            self.read_once(min(0.2, max(0.01, deadline - time.monotonic())))
        return True

    def status(self, sid):
        for k, v in self.headers.get(sid, []):
            if k == ":status":
                return int(v)
        return None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
