#!/usr/bin/env python3
"""Writes fuzz/corpus/fuzz_h2/seed-*: HTTP/2 client frames (after the preface, which the check
adds) for FuzzHost's routes and for the frame kinds and faults of RFC 9113, each behind the
3-byte input header of fuzz/checks/input.hpp. Needs Debian's python3-hpack (python3-h2)."""

import os
import sys

try:
    import hpack
except ImportError:
    if sys.executable != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus", "fuzz_h2")


def frame(ftype, flags, sid, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([ftype, flags]) + sid.to_bytes(4, "big") + payload


def request(enc, sid, method, path, extra=(), end=True):
    block = enc.encode([(":method", method), (":path", path), (":scheme", "http"), (":authority", "fuzz")]
                       + list(extra))
    return frame(1, 4 | (1 if end else 0), sid, block)


def seeds():
    e = hpack.Encoder
    settings = frame(4, 0, 0)
    out = {}
    enc = e()
    out["get-fixed"] = settings + request(enc, 1, "GET", "/fixed")
    enc = e()
    out["get-many"] = settings + b"".join(request(enc, 1 + 2 * i, "GET", p) for i, p in enumerate(
        ["/fixed", "/prepared", "/f", "/big", "/h/file", "/h/missing", "/h/204", "/h/304", "/nothing"]))
    enc = e()
    out["head"] = settings + request(enc, 1, "HEAD", "/big") + request(enc, 3, "HEAD", "/st/x")
    enc = e()
    out["streams"] = settings + b"".join(request(enc, 1 + 2 * i, "GET", p) for i, p in enumerate(
        ["/st/a", "/st/cut", "/st/late-cut", "/st/ready", "/st/hold"]))
    enc = e()
    out["upload"] = (settings + request(enc, 1, "PUT", "/up/x", [("content-length", "11")], end=False)
                     + frame(0, 0, 1, b"hello ") + frame(0, 1, 1, b"world"))
    enc = e()
    out["upload-early-echo"] = (settings + request(enc, 1, "POST", "/up/early", end=False)
                                + request(enc, 3, "POST", "/up/echo", end=False)
                                + frame(0, 0, 1, b"x" * 100) + frame(0, 1, 3, b"y" * 3000) + frame(0, 1, 1))
    enc = e()
    out["echo-handler"] = settings + request(enc, 1, "POST", "/h/echo", end=False) + frame(0, 1, 1, b"body")
    enc = e()
    out["static"] = settings + b"".join(request(enc, 1 + 2 * i, "GET", p, x) for i, (p, x) in enumerate([
        ("/s/a.txt", [("range", "bytes=0-9,100-199")]), ("/s/a.txt", [("accept-encoding", "gzip")]),
        ("/s/", []), ("/s/sub", []), ("/s/a.txt", [("if-none-match", "*")])]))
    enc = e()
    out["ping-window-priority"] = (settings + frame(6, 0, 0, b"12345678") + frame(8, 0, 0, (1000).to_bytes(4, "big"))
                                   + frame(2, 0, 1, b"\x00\x00\x00\x00\x10")
                                   + request(enc, 1, "GET", "/big", [("priority", "u=1, i")])
                                   + frame(16, 0, 0, (1).to_bytes(4, "big") + b"u=0"))
    enc = e()
    out["reset"] = settings + request(enc, 1, "GET", "/st/hold") + frame(3, 0, 1, (8).to_bytes(4, "big"))
    enc = e()
    block = enc.encode([(":method", "GET"), (":path", "/fixed"), (":scheme", "http"), (":authority", "x"),
                        ("x-long", "v" * 300)])
    out["continuation"] = settings + frame(1, 1, 1, block[:10]) + frame(9, 0, 1, block[10:200]) + frame(9, 4, 1, block[200:])
    enc = e()
    out["goaway"] = settings + request(enc, 1, "GET", "/fixed") + frame(7, 0, 0, (0).to_bytes(8, "big"))
    enc = e()
    out["window-zero"] = (frame(4, 0, 0, b"\x00\x04\x00\x00\x00\x00") + request(enc, 1, "GET", "/big")
                          + frame(8, 0, 1, (5000).to_bytes(4, "big")))
    enc = e()
    out["table-size-zero"] = frame(4, 0, 0, b"\x00\x01\x00\x00\x00\x00") + request(enc, 1, "GET", "/fixed")
    enc = e()
    out["malformed"] = settings + b"".join(request(enc, 1 + 2 * i, "GET", "/fixed", x) for i, x in enumerate([
        [("Upper", "1")], [("connection", "close")], [("te", "gzip")], [(":foo", "1")]]))
    out["bad-frames"] = settings + frame(0, 1, 0, b"x") + frame(1, 5, 2, b"\x82")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        for flags in (0x00, 0x04, 0x18):  # whole pieces; small limits; busy pool + drain
            with open(os.path.join(OUT, f"seed-{name}-{flags:02x}"), "wb") as f:
                f.write(bytes([flags, 0x12, 0x34]) + data)


if __name__ == "__main__":
    main()
