#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/corpus/ (a developer tool; the corpus files are committed).

Seeds come from two places: the C++ string literals of the unit and protocol tests that hold HTTP
requests or chunked bodies (harvested, so every case a test pins down is a starting point), and the
hand-written cases below, one per RFC 9112 rule weft enforces and per request-smuggling framing.
Each seed gets the 3-byte prefix of fuzz/checks/input.hpp: flags, then a 16-bit split seed.
Usage: fuzz/tools/make_seeds.py   (from anywhere; rewrites only seed-* files)
"""
import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"

LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        n = s[i + 1]
        simple = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", '"': b'"', "\\": b"\\", "'": b"'"}
        if n == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
            out.append(int(m.group(0), 16))
            i += 2 + len(m.group(0))
            continue
        out += simple.get(n, n.encode())
        i += 2
    return bytes(out)


def harvest(paths, must_contain):
    """Adjacent literals (only whitespace between them) are joined, as C++ does."""
    found = []
    for path in paths:
        text = path.read_text()
        pos = 0
        while True:
            m = LITERAL.search(text, pos)
            if not m:
                break
            parts = [m.group(1)]
            end = m.end()
            while True:
                gap = re.match(r'\s*"', text[end:])
                if not gap:
                    break
                m2 = LITERAL.match(text, end + gap.end() - 1)
                if not m2:
                    break
                parts.append(m2.group(1))
                end = m2.end()
            pos = end
            data = unescape("".join(parts))
            if any(k in data for k in must_contain):
                found.append(data)
    return found


REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    b"GET /index.html?q=1&r=%20 HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n",
    b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    b"GET http://example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n",
    b"GET https://[::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /h/echo HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\nContent-Length: 3\r\n\r\nabc",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX-Tab:\tv\t\r\nX-Obs: caf\xc3\xa9\r\nX-Empty:\r\n\r\n",
    b"PATCH /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    # rule violations (400/413/414/417/431/501/505) next to the valid forms
    b"GET / HTTP/1.1\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\rX: y\r\n\r\n",
    b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
    b"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
    b"GET / http/1.1\r\nHost: a\r\n\r\n",
    b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GETTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
    b"GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHo(st: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
    b"GET http:// HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip;level=1, chunked\r\n\r\n0\r\n\r\n",
    b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 101 + b"\r\n",
    b"GET /" + b"a" * 8200 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 17000 + b"\r\n\r\n",
    b"\r\n" * 9 + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    # the conformance rules: HTTP/1.x as 1.1, the target grammar, an empty host, bare CRs
    b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.9\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /path\\file?q=C:\\x HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /a|b^c/[1]/{x}/`y`?q=<script>\"x\" HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: \r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
    b"GET http://a/ HTTP/1.1\r\nHost:\r\n\r\n",
    b"GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nConnection: keep-alive\r\n\r\n",
    b"GET / HTTP/1.1\rX",
    b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\r",
]

# Each ambiguous framing of issue 6 (request smuggling), with a request hidden in the body.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
SMUGGLING = [
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
    b"Content-Length: 4\r\nContent-Length: 40\r\n",
    b"Content-Length: 4, 40\r\n",
    b"Transfer-Encoding: xchunked\r\n",
    b"Transfer-Encoding: chunked, identity\r\n",
    b"Transfer-Encoding: identity, chunked\r\n",
    b"Transfer-Encoding : chunked\r\n",
    b"Transfer-Encoding\t: chunked\r\n",
    b" Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding:\r\n chunked\r\n",
    b"Transfer-Encoding: \x0bchunked\r\n",
    b"Transfer-Encoding: chunked\x00\r\n",
    b"Transfer-Encoding: CHUNKED\r\n",
    b"Transfer-Encoding: \"chunked\"\r\n",
    b"Transfer_Encoding: chunked\r\nContent-Length: 4\r\n",
]
SMUGGLING_BODIES = [
    b"0\r\n\r\n" + SMUGGLED,
    b"4\nabcd\n0\n\n" + SMUGGLED,
    b"4\r\nabcd\n0\r\n\r\n" + SMUGGLED,
    b"4\rabcd\r\n0\r\n\r\n" + SMUGGLED,
    b"ffffffffffffffffff\r\n" + SMUGGLED,
    b"0x4\r\nabcd\r\n0\r\n\r\n" + SMUGGLED,
    b"4 ;x\r\nabcd\r\n0\r\n\r\n" + SMUGGLED,
]

CHUNKED = [
    b"5\r\nhello\r\n0\r\n\r\n",
    b"0\r\n\r\n",
    b"0005\r\nhello\r\n000\r\n\r\n",
    b"5;name=value;flag\r\nhello\r\n6 ;a=\"q ; s\"\r\n world\r\n0;last\r\n\r\n",
    b"2\r\nhi\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\nX-Tab:\t1\r\n\r\n",
    b"3\r\nGET\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
    b"ffffffffffffffff\r\n",
    b"10000000000000000\r\n",
    b"5\nhello\n0\n\n",
    b"5\r\nhello\n0\r\n\r\n",
    b"5\r\nhelloXX0\r\n\r\n",
    b"5\rhello\r\n0\r\n\r\n",
    b"5 \r\nhello\r\n0\r\n\r\n",
    b"5;\x01\r\nhello\r\n0\r\n\r\n",
    b"0\r\n T: v\r\n\r\n",
    b"0\r\nT : v\r\n\r\n",
    b"0\r\n:v\r\n\r\n",
    b"0\r\nT: v\rX\r\n\r\n",
    b"0\r\nT: v\r\n\r",
    b"-1\r\n\r\n",
    b"\r\n0\r\n\r\n",
    b"40\r\n" + b"x" * 64 + b"\r\n0\r\n\r\n",
    b"41\r\n" + b"x" * 65 + b"\r\n0\r\n\r\n",
    b"1;" + b"e" * 20 + b"\r\nx\r\n0\r\n\r\n",
    b"0\r\n" + b"T: " + b"v" * 30 + b"\r\n\r\n",
    # the chunk-ext grammar: token names, token or quoted-string values, BWS
    b"5;\r\nhello\r\n0\r\n\r\n",
    b"5;bad[=x\r\nhello\r\n0\r\n\r\n",
    b"5 ; a = b ;c;d=\"e \\\" f\"\r\nhello\r\n0;x=\"\"\r\n\r\n",
    b"5;a=\"b\r\nhello\r\n0;c=\"\r\n\r\n",
    b"5;a=b \r\nhello\r\n0\r\n\r\n",
    b"5;a=\r\nhello\r\n0\r\n\r\n",
]

# Whole connections: pipelines across the FuzzHost routes (fuzz/checks/fuzz_host.hpp).
H = b"Host: a\r\n"
CONNECTIONS = [
    b"GET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /fixed HTTP/1.1\r\n" + H + b"\r\nGET /f HTTP/1.1\r\n" + H + b"\r\nHEAD /f HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /big HTTP/1.1\r\n" + H + b"\r\n" + b"GET /big HTTP/1.1\r\n" + H + b"\r\n" * 1 + b"GET /big HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhelloGET /h/x HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /fixed HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /fixed HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\n0123456789GET / HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /fixed HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /fixed HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /fixed HTTP/1.1\r\n" + H + b"Content-Length: 100000\r\n\r\n" + b"z" * 200,
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"POST /fixed HTTP/1.1\r\n" + H + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    b"GET /h/file HTTP/1.1\r\n" + H + b"\r\nGET /h/missing HTTP/1.1\r\n" + H + b"\r\nGET /h/big HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /h/204 HTTP/1.1\r\n" + H + b"\r\nGET /h/304 HTTP/1.1\r\n" + H + b"\r\nHEAD /h/x HTTP/1.1\r\n" + H + b"\r\n",
    b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /fixed HTTP/1.0\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + H + b"\r\nGET / HTTP/1.1\nHost: a\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /%zz HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /a%2fb%00 HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Content-Length: 9999999\r\n\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nfffff\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nabc",
    b"GET / HTTP/1.1\r\nHo",
    b"GET /s/a.txt HTTP/1.1\r\n" + H + b"Range: bytes=0-9,100-199,-5\r\n\r\nGET /s/a.txt HTTP/1.1\r\n" + H + b"Range: bytes=5-\r\n\r\n",
    b"GET /s/ HTTP/1.1\r\n" + H + b"\r\nGET /s/sub HTTP/1.1\r\n" + H + b"\r\nGET /s/empty/?format=json HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /s/a.txt HTTP/1.1\r\n" + H + b"Accept-Encoding: gzip\r\nIf-None-Match: \"x\"\r\n\r\nHEAD /s/sub/b.bin HTTP/1.1\r\n" + H + b"If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n\r\n",
    b"GET /s/.hidden HTTP/1.1\r\n" + H + b"\r\nGET /s/../x HTTP/1.1\r\n" + H + b"\r\nGET /s/%2e%2e/x HTTP/1.1\r\n" + H + b"\r\nOPTIONS /s/a.txt HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /s/a.txt HTTP/1.1\r\n" + H + b"Range: bytes=5000-\r\n\r\nPOST /s/a.txt HTTP/1.1\r\n" + H + b"Content-Length: 3\r\n\r\nabcGET /s/nope HTTP/1.1\r\n" + H + b"\r\n",
    b"GET /prepared HTTP/1.1\r\n" + H + b"\r\nHEAD /prepared HTTP/1.0\r\n\r\n",
    b"POST /prepared HTTP/1.1\r\n" + H + b"Content-Length: 4\r\n\r\nbodyGET /prepared HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n",
    b"\r\n\r\nGET /fixed HTTP/1.1\r\n" + H + b"\r\n\r\n",
    b"GET /fixed HTTP/1.2\r\n" + H + b"\r\nOPTIONS * HTTP/1.1\r\n" + H + b"\r\nCONNECT a:1 HTTP/1.1\r\n" + H + b"\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"POST /h/echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;a=\"b\"\r\nhello\r\n0\r\n\r\nPOST /h/echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n" + H + b"\r\n",
    b"GET / HTTP/1.1\r\n" + H + b"\r\nGET /x HTTP/1.1\r\nHost: a\rb",
]
# Flags (fuzz/checks/connection_check.cpp): 3 busy pool, 4 drain, 5 finish, 6 timer, 7 few requests.
CONNECTION_FLAGS = [0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x44, 0x90]


def get(path, version=b"1.1", fields=b"", method=b"GET"):
    return method + b" " + path + b" HTTP/" + version + b"\r\n" + (H if version == b"1.1" else b"") + fields + b"\r\n"


def post(path, body, chunked=False, fields=b""):
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in body) + b"0\r\n\r\n"
        return b"POST " + path + b" HTTP/1.1\r\n" + H + fields + b"Transfer-Encoding: chunked\r\n\r\n" + framed
    data = b"".join(body)
    return b"POST " + path + b" HTTP/1.1\r\n" + H + fields + b"Content-Length: %d\r\n\r\n" % len(data) + data


# Streamed responses (/st) and streamed request bodies (/up) of FuzzHost, each with every flag of
# CONNECTION_FLAGS: busy pool (503, refused body deliveries), drain/finish, timer, few requests.
STREAMS = [
    get(b"/st"),
    get(b"/st") + get(b"/fixed") + get(b"/st") + get(b"/h/x"),
    get(b"/st/cut"),
    get(b"/fixed") + get(b"/st/cut") + get(b"/fixed"),
    get(b"/st/late-cut") + get(b"/fixed"),
    get(b"/st/ready") + get(b"/st/ready", fields=b"Connection: close\r\n"),
    get(b"/st/hold"),
    get(b"/st/hold") + get(b"/fixed"),
    get(b"/st", method=b"HEAD") + get(b"/st/ready", method=b"HEAD") + get(b"/fixed"),
    get(b"/st", version=b"1.0") + get(b"/fixed"),
    get(b"/st", version=b"1.0", fields=b"Connection: keep-alive\r\n", method=b"HEAD") + get(b"/st", version=b"1.0"),
    get(b"/st/late-cut", version=b"1.0"),
    get(b"/big") * 2 + get(b"/f") * 3 + get(b"/st"),
    get(b"/big") * 2 + get(b"/f") * 4 + get(b"/st/cut"),
    post(b"/up", [b"hello"]) + get(b"/st"),
    post(b"/up", [b"hel", b"lo", b"x" * 300], chunked=True) + get(b"/fixed"),
    post(b"/up", [b"u" * 3000]) + post(b"/up", [b"v" * 2000], chunked=True) + get(b"/up"),
    post(b"/up", [b"abc"], fields=b"Expect: 100-continue\r\n") + get(b"/fixed"),
    post(b"/up", [b"abc"], chunked=True, fields=b"Expect: 100-continue\r\n"),
    post(b"/up/early", [b"hello"]) + get(b"/fixed"),
    post(b"/up/early", [b"hello"], chunked=True) + get(b"/fixed"),
    post(b"/up/early", [b"w" * 5000]),
    post(b"/up/echo", [b"hello", b"world"], chunked=True) + get(b"/fixed"),
    # Busy pool: the first handler request is refused (503, kept alive for a buffered route), so the
    # upload behind it runs, with refused body deliveries.
    get(b"/h/x") + post(b"/up", [b"a" * 100, b"b" * 200, b"c"], chunked=True) + get(b"/fixed"),
    get(b"/st") + post(b"/up/echo", [b"d" * 50, b"e" * 60], chunked=True) + get(b"/st/ready"),
    get(b"/h/x") + post(b"/up", [b"f" * 700]) + get(b"/h/x") + post(b"/up/echo", [b"g" * 70]),
    post(b"/up/echo", [b"e" * 4000]) + get(b"/st"),
    b"POST /up HTTP/1.1\r\n" + H + b"Content-Length: 100001\r\n\r\nxx",
    b"POST /up HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n186a0\r\n" + b"y" * 64,
    b"POST /up/echo HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\nabc\r\n0\r\n\r\n",
    b"POST /up HTTP/1.1\r\n" + H + b"Content-Length: 10\r\n\r\nabc",
    b"POST /up/echo HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcdGET /fixed HTTP/1.0\r\n\r\n",
]


PATHS = [
    b"", b"/", b"/index.html", b"/a/b/c.txt", b"//a//b/", b"/./a/./b/.", b"/a/../b", b"/a/b/../../c",
    b"/..", b"/../etc/passwd", b"/a/../../etc", b"/a/b/..", b"/a/b/../", b"/.git/config", b"/.well-known/acme",
    b"/a/.hidden/x", b"/.x/..", b"/a\\..\\b", b"/%2e%2e/x", b"/\xc0\xae\xc0\xae/x", b"/a\x00b", b"a/b",
    b"/a;b/c", "/\u00fc/\u00e9".encode(), b"/" + b"a/" * 200, b"/" + b"../" * 50, b"/...", b"/.../..", b"/a/.",
    b"/~user/x", b"/a//../b", b"/\x01\x7f\xff",
]

RANGES = [
    b"bytes=0-0", b"bytes=0-499", b"bytes=500-", b"bytes=-500", b"bytes=0-0,-1", b"bytes=500-600,601-999",
    b"bytes=" + b",".join(b"%d-%d" % (i * 200, i * 200 + 1) for i in range(20)),
    b"bytes=" + b",".join(b"%d-%d" % (i * 2, i * 2) for i in range(40)),
    b"bytes=5-1", b"bytes=x-", b"bytes=1-2-3", b"bytes=", b"bytes=,", b"BYTES = 0-1", b"items=0-1",
    b"bytes=99999999999999999999999-", b"bytes=0-99999999999999999999999", b"bytes=-0",
    b"bytes=-99999999999999999999", b" bytes=0-1 , , 2-3 ", b"bytes=0-10,5-20,100-200,0-0", b"bytes=-",
    b"bytes=1000-2000", b"bytes=0-\t1", b"bytes=200-300,0-100",
]


def write(target, name, flags, seed, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    blob = bytes([flags, seed & 0xFF, seed >> 8]) + data
    digest = hashlib.sha1(blob).hexdigest()[:12]
    (d / f"seed-{name}-{digest}").write_bytes(blob)


def main():
    for d in CORPUS.glob("*/seed-*"):
        d.unlink()
    tests = ROOT / "tests"
    harvested = harvest(
        [tests / "unit/http/parser_test.cpp"] + sorted((tests / "integration/protocol").glob("*_test.cpp")),
        [b"HTTP/1."])
    requests = REQUESTS + [b"POST / HTTP/1.1\r\nHost: a\r\n" + h + b"\r\n" + b for h in SMUGGLING for b in SMUGGLING_BODIES[:2]]
    for i, r in enumerate(requests + harvested):
        kind = "rule" if i < len(REQUESTS) else ("smuggling" if i < len(requests) else "test")
        write("fuzz_parser", kind, [0, 1, 2, 3, 4, 5][i % 6], 0x1234 + 7 * i, r)
    chunked = CHUNKED + [b for b in SMUGGLING_BODIES] + harvest([tests / "unit/http/chunked_decoder_test.cpp"], [b"\r\n0", b"\n0"])
    for i, c in enumerate(chunked):
        write("fuzz_chunked", "body", [0, 1, 2, 3, 4, 5][i % 6], 0x0101 * (i + 1), c)
    for i, p in enumerate(PATHS):
        for flags in (0, 1):
            write("fuzz_path", "path", flags, 0, p)
    sizes8 = [0, 1, 1000, 1 << 63, (1 << 64) - 1]
    for i, r in enumerate(RANGES):
        write("fuzz_range", "range", 1, [1000, 1, 0, 65535][i % 4], r)
        write("fuzz_range", "range", 0, 0, sizes8[i % len(sizes8)].to_bytes(8, "little") + r)
    conns = CONNECTIONS + [b"POST /h/echo HTTP/1.1\r\nHost: a\r\n" + h + b"\r\n" + b for h in SMUGGLING[:6] for b in SMUGGLING_BODIES[:3]]
    for i, c in enumerate(conns):
        for j, flags in enumerate(CONNECTION_FLAGS if i < len(CONNECTIONS) else [0x00]):
            if (i + j) % 3 == 0 or flags == 0:
                write("fuzz_connection", "stream", flags, 0x0203 * (i + j + 1), c)
    for i, c in enumerate(STREAMS):
        for j, flags in enumerate(CONNECTION_FLAGS):
            write("fuzz_connection", "exchange", flags, 0x0305 * (i + j + 1), c)


if __name__ == "__main__":
    main()
