#!/usr/bin/env python3
"""weft behind HAProxy: rolling restarts and a crash under load (docs/deploy.md).

Starts three weft instances (the real binary, built-in site) on loopback ports, HAProxy in front
of them with HTTP health checks (its config and admin socket in a temporary directory), and wrk
through HAProxy; then one of these scenarios:

  rolling-maint   each instance in turn: HAProxy's runtime API sets it to drain, then maint;
                  SIGTERM; the same port again with a new weft; ready; wait until it is UP and
                  taking traffic. Asserts 0 non-2xx and 0 socket errors.
  rolling-checks  the same restart with no word to HAProxy: only its health checks see the
                  instance go and come back. Asserts 0 non-2xx and 0 socket errors.
  sigkill         one instance SIGKILLed mid-load: HAProxy must mark it DOWN within FALL check
                  intervals (+ 0.5 s); the requests that failed are printed and bounded
                  (--max-failed).

Options:
  --no-retry      HAProxy without retry-on and without option redispatch (HAProxy's defaults);
                  by default it has the recommended settings of docs/deploy.md.
  --max-failed N  failed requests allowed per run (default 0).
  --report-only   a measurement: the failures are printed, not asserted.
  --repeat N      run the scenario N times (fresh processes each time) and print each count.
  --weft-arg A    an extra weft flag (repeatable), e.g. --weft-arg=--drain-idle-grace=0.
  --loops N       event loops of each instance (default 1: three instances share two cores).

  tests/deploy/haproxy_test.py --weft build/debug/apps/weft/weft rolling-checks

Every wait has a deadline, every child is killed on the way out, loopback only, no root.
The last line is "N passed, N failed" (one per run). Python 3 stdlib only.
"""

import argparse
import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_WEFT = os.path.join(HERE, "..", "..", "build", "debug", "apps", "weft", "weft")

INSTANCES = 3
# Health checks: every CHECK_INTER_MS; FALL failures mark a server DOWN, RISE successes UP.
CHECK_INTER_MS = 500
FALL = 2
RISE = 2
WRK_CONNECTIONS = 32
# A request slower than this counts as a wrk "timeout" socket error. Generous: the instances are
# ASan builds sharing two cores with HAProxy and wrk, and a retried connection waits for
# HAProxy's turn-around timer (min(timeout connect, 1 s)) before each retry.
WRK_TIMEOUT_S = 8

RETRY_SETTINGS = """\
    # A request that found no answer (refused connection, closed idle connection, no response
    # in time) is sent again, to another server: nothing had been answered yet.
    retry-on conn-failure empty-response response-timeout
    option redispatch 1
"""

HAPROXY_CFG = """\
global
    log stdout format raw local0 info
    stats socket {admin} mode 600 level admin
    nbthread 1
    maxconn 4096

defaults
    mode http
    log global
    option httplog
    # Log only what went wrong (errors, retries, redispatches): the test prints it.
    option dontlog-normal
    timeout connect 1s
    timeout client 30s
    timeout server 10s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 5s
    timeout check 1s
    retries 3
{retry}
frontend fe
    bind 127.0.0.1:{frontend}
    default_backend weft

backend weft
    balance roundrobin
    option httpchk GET /
    http-check expect status 200
    default-server check inter {inter}ms fall {fall} rise {rise}
{servers}
"""


class Failure(Exception):
    """A check of this test failed; `failed`: the failed requests counted, if it got that far."""

    def __init__(self, message, failed=None):
        super().__init__(message)
        self.failed = failed


def free_port():
    """A port the kernel had free a moment ago (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, step=0.02):
    """Polls `predicate` until it returns a true value (returned), or raises Failure."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


class Weft:
    """One weft instance on a fixed port; start() again after it stopped is a restart."""

    def __init__(self, binary, name, port, workdir, loops, extra_args):
        self.binary = binary
        self.loops = loops
        self.name = name
        self.port = port
        self.workdir = workdir
        self.extra_args = extra_args
        self.proc = None
        self.generation = 0
        self.started_at = 0.0

    def start(self):
        self.generation += 1
        self.out_path = os.path.join(self.workdir, f"{self.name}-{self.generation}.out")
        self.err_path = os.path.join(self.workdir, f"{self.name}-{self.generation}.err")
        args = [self.binary, "--port", str(self.port), "--loops", str(self.loops), "--threads", "4",
                "--access-log", "off", "--log-level", "warn"] + self.extra_args
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.started_at = time.monotonic()

        def listening():
            if self.proc.poll() is not None:
                raise Failure(f"{self.name} exited with {self.proc.returncode} at start: "
                              + tail(self.err_path))
            with open(self.out_path) as f:
                return "weft listening on" in f.read()

        wait_until(listening, 15, f"{self.name} to listen on port {self.port}")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig`, waits for the exit; returns (exit status, seconds it took)."""
        sent = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise Failure(f"{self.name} still running {timeout} s after signal {sig}")
        return code, time.monotonic() - sent

    def kill_quietly(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


class HAProxy:
    """HAProxy in the foreground with an admin socket, all files in `workdir`."""

    def __init__(self, binary, workdir, frontend, servers, retry):
        self.workdir = workdir
        self.frontend = frontend
        self.admin = os.path.join(workdir, "admin.sock")
        self.log_path = os.path.join(workdir, "haproxy.log")
        self.cfg_path = os.path.join(workdir, "haproxy.cfg")
        lines = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in servers)
        with open(self.cfg_path, "w") as cfg:
            cfg.write(HAPROXY_CFG.format(admin=self.admin, frontend=frontend, inter=CHECK_INTER_MS,
                                         fall=FALL, rise=RISE, servers=lines,
                                         retry=RETRY_SETTINGS if retry else ""))
        check = subprocess.run([binary, "-c", "-f", self.cfg_path], capture_output=True, text=True,
                               timeout=30)
        if check.returncode != 0:
            raise Failure("haproxy -c refused the config:\n" + check.stdout + check.stderr)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([binary, "-db", "-f", self.cfg_path],
                                         stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        wait_until(lambda: os.path.exists(self.admin) and self.stat(), 15, "HAProxy's admin socket")

    def command(self, line):
        """One runtime API command; its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.admin)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return b"".join(chunks).decode(errors="replace")
                chunks.append(chunk)

    def stat(self):
        """`show stat` of the backend's servers: {name: row}, or None while HAProxy is not up."""
        if self.proc.poll() is not None:
            raise Failure(f"HAProxy exited with {self.proc.returncode}: " + tail(self.log_path))
        try:
            text = self.command("show stat")
        except OSError:
            return None
        text = text.lstrip("# ")
        rows = {}
        for row in csv.DictReader(io.StringIO(text)):
            if row.get("pxname") == "weft" and row.get("svname") not in ("BACKEND", None):
                rows[row["svname"]] = row
        return rows or None

    def field(self, server, name):
        """One `show stat` field of `server` ("" while the admin socket does not answer)."""
        rows = self.stat()
        return rows[server][name] if rows and server in rows else ""

    def status(self, server):
        return self.field(server, "status")

    def count(self, server, name):
        """A numeric field (-1 while unknown)."""
        value = self.field(server, name)
        return int(value) if value.isdigit() else -1

    def set_state(self, server, state):
        answer = self.command(f"set server weft/{server} state {state}").strip()
        if answer:
            raise Failure(f"set server weft/{server} state {state}: {answer}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


class Load:
    """wrk through HAProxy until stop(); then its counts."""

    def __init__(self, wrk, port, workdir):
        self.out_path = os.path.join(workdir, "wrk.out")
        with open(self.out_path, "w") as out:
            self.proc = subprocess.Popen(
                [wrk, "-t2", f"-c{WRK_CONNECTIONS}", "-d300s", f"--timeout={WRK_TIMEOUT_S}s",
                 f"http://127.0.0.1:{port}/"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def stop(self):
        """SIGINT (wrk prints its summary), then the parsed counts."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=WRK_TIMEOUT_S + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise Failure("wrk did not stop on SIGINT")
        with open(self.out_path) as f:
            text = f.read()
        total = re.search(r"(\d+) requests in", text)
        if not total:
            raise Failure("no summary from wrk:\n" + text)
        counts = {"requests": int(total.group(1)), "non2xx": 0, "connect": 0, "read": 0,
                  "write": 0, "timeout": 0}
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                           text)
        if errors:
            for key, value in zip(("connect", "read", "write", "timeout"), errors.groups()):
                counts[key] = int(value)
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        if non2xx:
            counts["non2xx"] = int(non2xx.group(1))
        counts["failed"] = (counts["non2xx"] + counts["connect"] + counts["read"] + counts["write"]
                            + counts["timeout"])
        return counts

    def kill_quietly(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def wait_serving(haproxy, name, since):
    """Waits until HAProxy has `name` UP, RISE checks after `since`, and sends it requests."""
    settle = since + RISE * CHECK_INTER_MS / 1000.0
    wait_until(lambda: time.monotonic() >= settle and haproxy.status(name) == "UP", 15,
               f"HAProxy to mark {name} UP")
    wait_until(lambda: haproxy.count(name, "stot") >= 0, 5, "HAProxy's stats")
    before = haproxy.count(name, "stot")
    wait_until(lambda: haproxy.count(name, "stot") > before + 10, 10,
               f"requests to reach {name} after its restart")


def restart_all(haproxy, wefts, tell_haproxy, log):
    for w in wefts:
        if tell_haproxy:
            # No new requests to it; wait for those in progress; then out of the rotation.
            haproxy.set_state(w.name, "drain")
            wait_until(lambda: haproxy.count(w.name, "scur") == 0, 10,
                       f"{w.name}'s sessions to end in drain state")
            haproxy.set_state(w.name, "maint")
        code, took = w.stop(signal.SIGTERM)
        if code != 0:
            raise Failure(f"{w.name} exited {code} after SIGTERM: " + tail(w.err_path))
        w.start()
        log(f"{w.name}: drained in {took:.2f} s, restarted on port {w.port}")
        if tell_haproxy:
            haproxy.set_state(w.name, "ready")
        wait_serving(haproxy, w.name, w.started_at)


def crash_one(haproxy, wefts, log):
    victim = wefts[1]
    killed = time.monotonic()
    victim.stop(signal.SIGKILL, timeout=5)
    down = wait_until(lambda: haproxy.status(victim.name).startswith("DOWN") and time.monotonic(),
                      10, f"HAProxy to mark {victim.name} DOWN")
    out_after = down - killed
    # FALL failed checks, one interval apart, the first at most one interval after the kill.
    bound = FALL * CHECK_INTER_MS / 1000.0 + 0.5
    log(f"{victim.name}: SIGKILL; HAProxy marked it DOWN {out_after:.2f} s later (bound {bound} s)")
    if out_after > bound:
        raise Failure(f"{victim.name} marked DOWN {out_after:.2f} s after SIGKILL, over {bound} s")
    time.sleep(1.0)  # the others carry the load alone for a while
    victim.start()
    wait_serving(haproxy, victim.name, victim.started_at)
    log(f"{victim.name}: restarted and back in rotation")


def run_once(args, log):
    """One scenario with fresh processes; returns the wrk counts (raises Failure)."""
    workdir = tempfile.mkdtemp(prefix="weft-haproxy-")
    wefts, haproxy, load = [], None, None
    try:
        for i in range(INSTANCES):
            w = Weft(args.weft, f"w{i + 1}", free_port(), workdir, args.loops, args.weft_arg)
            wefts.append(w)
            w.start()
        haproxy = HAProxy(args.haproxy, workdir, free_port(), [(w.name, w.port) for w in wefts],
                          retry=not args.no_retry)
        for w in wefts:
            wait_until(lambda: haproxy.status(w.name) == "UP", 15, f"HAProxy to see {w.name} UP")
        load = Load(args.wrk, haproxy.frontend, workdir)
        time.sleep(1.0)  # steady state: every keep-alive connection in use
        if args.scenario == "sigkill":
            crash_one(haproxy, wefts, log)
        else:
            restart_all(haproxy, wefts, args.scenario == "rolling-maint", log)
        time.sleep(1.0)
        counts = load.stop()
        stat = haproxy.stat()
        retried = sum(int(r["wretr"] or 0) for r in stat.values())
        redispatched = sum(int(r["wredis"] or 0) for r in stat.values())
        log(f"wrk: {counts['requests']} requests, {counts['non2xx']} non-2xx, socket errors: "
            f"connect {counts['connect']}, read {counts['read']}, write {counts['write']}, "
            f"timeout {counts['timeout']}; HAProxy retried {retried}, redispatched {redispatched}")
        if counts["requests"] < 1000:
            raise Failure(f"only {counts['requests']} requests went through: no real load")
        if counts["failed"] > args.max_failed and not args.report_only:
            raise Failure(f"{counts['failed']} failed requests (allowed: {args.max_failed}); "
                          "HAProxy's log of the abnormal ones ends with:\n"
                          + tail(haproxy.log_path, 15), failed=counts["failed"])
        return counts
    finally:
        if load is not None:
            load.kill_quietly()
        if haproxy is not None:
            haproxy.stop()
        for w in wefts:
            w.kill_quietly()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"files kept in {workdir}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["rolling-maint", "rolling-checks", "sigkill"])
    parser.add_argument("--weft", default=DEFAULT_WEFT)
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    parser.add_argument("--weft-arg", action="append", default=[])
    parser.add_argument("--loops", type=int, default=1, help="event loops of each weft")
    parser.add_argument("--no-retry", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--max-failed", type=int, default=0,
                        help="failed requests allowed per run (sigkill: see its bound)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    args = parser.parse_args()
    for tool in (args.weft, args.haproxy, args.wrk):
        if not os.access(tool, os.X_OK):
            print(f"haproxy_test: {tool} is missing (scripts/bootstrap installs haproxy and wrk)")
            print("0 passed, 1 failed")
            return 1

    def log(line):
        print(f"[{args.scenario}] {line}", flush=True)

    label = "no retry-on/redispatch" if args.no_retry else "retry-on + redispatch"
    command = " ".join([os.path.basename(args.weft), f"--loops {args.loops}"] + args.weft_arg)
    log(f"{INSTANCES} x {command} behind HAProxy ({label}), wrk -c{WRK_CONNECTIONS}")
    passed = failed = 0
    failures = []
    for run in range(args.repeat):
        try:
            counts = run_once(args, log)
            failures.append(counts["failed"])
            passed += 1
        except Failure as e:
            log(f"run {run + 1}: FAILED: {e}")
            failures.append(e.failed if e.failed is not None else "-")
            failed += 1
    log(f"failed requests per run: {failures}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
