#!/usr/bin/env python3
"""User-space memory of one open, idle Server-Sent Events stream beyond its connection.

Starts a fresh weft (built-in site) for each case, opens COUNT loopback connections and reads
weft's memory from /proc/PID/status once they are all in place:
  idle    each connection asked GET / and got its answer: an idle keep-alive connection
  stream  each connection asked GET /events?n=1000000&ms=60000 and got the head: a stream
          waiting for its next event (a timer 60 s away)
and prints (stream - idle) / COUNT, for VmRSS and for RssAnon (the heap, without the
binary's pages). The exchange-layer issue's goal: <= 1 KiB per stream.

  tests/stress/stream_memory.py [--weft build/release/apps/weft/weft] [--count 10000] [--repeat 3]

Loopback only; needs COUNT + a few hundred descriptors in this process and in weft (the soft
RLIMIT_NOFILE is raised to the hard limit when it is lower). Python 3 stdlib only.
"""

import argparse
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WEFT = os.path.join(HERE, "..", "..", "build", "release", "apps", "weft", "weft")


def memory_kib(pid):
    """VmRSS and RssAnon of `pid` in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["RssAnon"]


def read_until(sock, marker, deadline):
    """Bytes from `sock` until `marker` is among them (or raise at `deadline`)."""
    data = b""
    while marker not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("weft closed a connection: " + data[:200].decode(errors="replace"))
        data += chunk
    return data


def read_response(sock, deadline):
    """One Content-Length response."""
    data = read_until(sock, b"\r\n\r\n", deadline)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"\r\ncontent-length: *([0-9]+)", head, re.I).group(1))
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("weft closed a connection mid-response")
        body += chunk
    return head


def measure(weft, count, case):
    """Memory (VmRSS, RssAnon) of a fresh weft before and with `count` connections of `case`."""
    args = [weft, "--port", "0", "-t", "2", "--max-connections", str(count + 100),
            "--keepalive-timeout", "3600", "--write-timeout", "3600", "--log-level", "error"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r":([0-9]+)/", line).group(1))
        # Warm up: the pool threads, a stream and an answer have run once.
        for target in ("/", "/events?n=2&ms=0", "/sleep?ms=0"):
            with socket.create_connection(("127.0.0.1", port)) as warm:
                warm.sendall(f"GET {target} HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n".encode())
                while warm.recv(65536):
                    pass
        time.sleep(0.5)
        before = memory_kib(proc.pid)

        request = {
            "idle": b"GET / HTTP/1.1\r\nHost: m\r\n\r\n",
            "stream": b"GET /events?n=1000000&ms=60000 HTTP/1.1\r\nHost: m\r\n\r\n",
        }[case]
        deadline = time.monotonic() + 120
        conns = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(request)
            if case == "idle":
                read_response(sock, deadline)
            else:
                read_until(sock, b"\r\n\r\n", deadline)
            conns.append(sock)
        time.sleep(1.0)
        with_conns = memory_kib(proc.pid)
        # Still all there?
        status = subprocess.run(["ls", f"/proc/{proc.pid}/fd"], capture_output=True, text=True).stdout.split()
        if len(status) < count:
            raise RuntimeError(f"weft holds {len(status)} descriptors, fewer than {count} connections")
        for sock in conns:
            sock.close()
        return before, with_conns
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weft", default=DEFAULT_WEFT, help="the weft binary (default: the release build)")
    parser.add_argument("--count", type=int, default=10000, help="connections per case (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each case; the median is taken")
    options = parser.parse_args()
    weft = os.path.abspath(options.weft)
    if not os.access(weft, os.X_OK):
        sys.exit(f"no weft at {weft}: cmake --preset release && cmake --build --preset release --target weft_cli")

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = options.count + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            sys.exit(f"RLIMIT_NOFILE hard limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # weft inherits it

    results = {}
    for case in ("idle", "stream"):
        growth_rss, growth_anon = [], []
        for run in range(options.repeat):
            (rss0, anon0), (rss1, anon1) = measure(weft, options.count, case)
            growth_rss.append(rss1 - rss0)
            growth_anon.append(anon1 - anon0)
            print(f"{case:6} run {run + 1}: VmRSS {rss0} -> {rss1} KiB (+{rss1 - rss0}), "
                  f"RssAnon {anon0} -> {anon1} KiB (+{anon1 - anon0})", flush=True)
        results[case] = (statistics.median(growth_rss), statistics.median(growth_anon))

    n = options.count
    for index, name in ((0, "VmRSS"), (1, "RssAnon")):
        idle, stream = results["idle"][index], results["stream"][index]
        print(f"{name:7}: idle keep-alive {idle * 1024 / n:7.0f} B/connection, open stream {stream * 1024 / n:7.0f} "
              f"B/connection; per stream beyond its connection {(stream - idle) * 1024 / n:6.0f} B "
              f"({n} connections, median of {options.repeat})")
    per_stream = (results["stream"][0] - results["idle"][0]) * 1024 / n
    print(f"[ figure   ] memory per open idle event stream beyond its connection: {per_stream:.0f} bytes "
          f"(goal <= 1024)")


if __name__ == "__main__":
    main()
