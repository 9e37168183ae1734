#!/usr/bin/env python3
"""weft's binary upgrade (SIGUSR2) against the real binary (docs/deploy.md, "Upgrading the binary").

Each scenario copies the weft under test into a temporary directory, starts it from there, and
replaces that file by rename (as dpkg does) before it sends SIGUSR2:

  load      wrk against weft (2 loops: two SO_REUSEPORT sockets to hand over) while the binary
            is replaced and upgraded twice in a row. Asserts: 0 socket errors and 0 non-2xx
            answers in wrk's run, each old process exits 0 after its drain, each new process is
            another pid whose /proc/PID/exe is the file that replaced the old one, and answers.
  broken    the file replaced by a script that exits 1, by one that never reports ready
            (the 10 s ready timeout passes), by a file that cannot be executed: each
            time the old process logs one line naming why, keeps serving, and leaves no zombie;
            a second SIGUSR2 during an attempt is ignored with a line. Then a good binary takes over.
  tls       HTTPS with --http-redirect: the certificate and key files are replaced before the
            upgrade; the new process serves the new certificate on the same port, and the redirect
            port, handed over too, still answers 308.
  user      (root only, else skipped with 77) --user nobody and an access log: the new process,
            started by a process that is no longer root, serves the inherited sockets as nobody
            and writes the access log.
  activated weft started by systemd-socket-activate: the socket systemd bound is handed on.
  systemd   NOTIFY_SOCKET: the new process sends MAINPID=its pid and READY=1, the old one never
            STOPPING=1 (the service goes on); the new one does when it is stopped.

  tests/deploy/upgrade_test.py --weft build/debug/apps/weft/weft load

Every wait has a deadline, every child is killed on the way out, loopback only.
Python 3 stdlib, wrk and openssl (the tls scenario).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

ACTIVATE = "/usr/bin/systemd-socket-activate"
WRK_CONNECTIONS = 20
WRK_SECONDS = 8
READY_LINE = re.compile(r"upgrade: (\S+) \(process (\d+)\) is ready and serves; draining this process \((\d+)\)")


class Failure(Exception):
    pass


def wait_until(predicate, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def check(condition, message):
    if not condition:
        raise Failure(message)


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def exists(pid):
    """True while /proc has `pid`, a zombie included."""
    return os.path.exists(f"/proc/{pid}")


def exe_inode(pid):
    return os.stat(f"/proc/{pid}/exe").st_ino


def replace_by_rename(source, target, mode=0o755):
    """Writes a copy of `source` beside `target` and renames it over `target` (as dpkg does)."""
    temporary = target + ".dpkg-new"
    shutil.copyfile(source, temporary)
    os.chmod(temporary, mode)
    os.rename(temporary, target)
    return os.stat(target).st_ino


def write_script(path, text):
    temporary = path + ".dpkg-new"
    with open(temporary, "w") as f:
        f.write(text)
    os.chmod(temporary, 0o755)
    os.rename(temporary, path)


def http_status(port, path="/", timeout=5):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status


class Weft:
    """The weft started by the test (its first process); later processes are found by pid."""

    def __init__(self, workdir, args, env=None, activate_port=None):
        self.workdir = workdir
        self.binary = os.path.join(workdir, "weft")
        self.out_path = os.path.join(workdir, "weft.out")
        self.err_path = os.path.join(workdir, "weft.err")
        # systemd-socket-activate binds the port, then runs weft (same pid) at the first connection.
        launcher = ([ACTIVATE, f"--listen=127.0.0.1:{activate_port}"] if activate_port else [])
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(launcher + [self.binary] + args, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, env=env, cwd=workdir)
        self.pids = [self.proc.pid]
        if activate_port:
            wait_until(lambda: "Listening on" in self.stderr(), 10, "systemd-socket-activate to listen")
            check(http_status(activate_port, timeout=15) == 200, "no answer through socket activation")

        def listening():
            if self.proc.poll() is not None:
                raise Failure(f"weft exited with {self.proc.returncode} at start: {read(self.err_path)}")
            return re.search(r"weft listening on https?://127\.0\.0\.1:(\d+)/", read(self.out_path))

        self.port = int(wait_until(listening, 15, "weft to listen").group(1))
        redirect = re.search(r"weft redirecting http://127\.0\.0\.1:(\d+)/", read(self.out_path))
        self.redirect_port = int(redirect.group(1)) if redirect else None

    def stderr(self):
        return read(self.err_path)

    def upgrade(self, timeout=20):
        """SIGUSR2 to the newest process; waits for its successor; returns (old pid, new pid)."""
        old = self.pids[-1]
        seen = len(READY_LINE.findall(self.stderr()))
        os.kill(old, signal.SIGUSR2)

        def ready():
            lines = READY_LINE.findall(self.stderr())
            return lines[seen] if len(lines) > seen else None

        path, new, draining = wait_until(ready, timeout, f"the process after {old} to be ready")
        check(int(draining) == old, f"process {draining} handed over, expected {old}")
        check(path == self.binary, f"the upgrade started {path}, expected {self.binary}")
        self.pids.append(int(new))
        return old, int(new)

    def wait_exit(self, pid, timeout=20):
        """Waits until `pid` has ended; its exit status when it is the test's own child."""
        if pid == self.proc.pid:
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise Failure(f"process {pid} still running after {timeout} s")
        wait_until(lambda: not exists(pid), timeout, f"process {pid} to end")
        return None

    def kill_all(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)


def start_weft(workdir, weft_under_test, args, env=None, activate_port=None):
    os.chmod(workdir, 0o755)  # --user nobody must be able to run the copy
    replace_by_rename(weft_under_test, os.path.join(workdir, "weft"))
    return Weft(workdir, args, env, activate_port)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_wrk(text):
    requests = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return (int(requests.group(1)) if requests else 0,
            sum(int(g) for g in errors.groups()) if errors else 0,
            int(non2xx.group(1)) if non2xx else 0)


def scenario_load(weft_under_test, workdir):
    weft = start_weft(workdir, weft_under_test, ["-p", "0", "--loops", "2", "--threads", "4",
                                                  "--log-level", "info"])
    try:
        wrk = subprocess.Popen(["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "--timeout", "5s",
                                f"http://127.0.0.1:{weft.port}/"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first_inode = exe_inode(weft.proc.pid)
        time.sleep(1.5)  # load established (wrk has no progress output to wait for)
        for _ in range(2):
            inode = replace_by_rename(weft_under_test, weft.binary)
            check(inode != first_inode, "the replacement has the old inode")
            old, new = weft.upgrade()
            check(new != old, "the new process has the old pid")
            check(exe_inode(new) == inode,
                  f"process {new} runs {os.readlink(f'/proc/{new}/exe')}, not the file that replaced it")
            status = weft.wait_exit(old)
            check(status in (0, None), f"the old process {old} exited with {status}, expected 0")
            check(not exists(old), f"the old process {old} is still there")
            check(http_status(weft.port) == 200, "the new process does not answer 200")
            first_inode = inode
        output, _ = wrk.communicate(timeout=WRK_SECONDS + 30)
        requests, socket_errors, non2xx = parse_wrk(output)
        print(f"load: {requests} requests, {socket_errors} socket errors, {non2xx} non-2xx, "
              f"across 2 upgrades (processes {' -> '.join(map(str, weft.pids))})")
        check(wrk.returncode == 0, f"wrk failed: {output}")
        check(requests >= 1000, f"only {requests} requests: no real load\n{output}")
        check(socket_errors == 0 and non2xx == 0, f"failed requests during the upgrades:\n{output}")
        last = weft.pids[-1]
        os.kill(last, signal.SIGTERM)
        weft.wait_exit(last)
        check("exited" not in weft.stderr() and "upgrade failed" not in weft.stderr(), weft.stderr())
    finally:
        weft.kill_all()


def scenario_broken(weft_under_test, workdir):
    weft = start_weft(workdir, weft_under_test, ["-p", "0", "--loops", "1", "--log-level", "info"])
    pid = weft.proc.pid
    try:
        def attempt(expected, timeout=20, during=None):
            before = weft.stderr().count("upgrade failed")
            os.kill(pid, signal.SIGUSR2)
            if during:
                during()
            wait_until(lambda: weft.stderr().count("upgrade failed") > before, timeout, "the failure line")
            lines = [line for line in weft.stderr().splitlines() if "upgrade failed" in line]
            line = lines[-1]
            print(f"broken: {line}")
            check(re.search(expected, line), f"expected /{expected}/ in: {line}")
            child = re.search(r"\(process (\d+)\)", line)
            if child:
                check(not exists(int(child.group(1))), f"process {child.group(1)} was not reaped (zombie)")
            check(alive(pid), "the old process is gone")
            check(http_status(weft.port) == 200, "the old process no longer answers")

        prefix = rf"^weft: error: upgrade failed, still serving as process {pid}: {re.escape(weft.binary)} "
        write_script(weft.binary, "#!/bin/sh\necho 'new version: cannot start' >&2\nexit 1\n")
        attempt(prefix + r"\(process \d+\) exited with status 1 before it was ready$")

        write_script(weft.binary, "#!/bin/sh\nexec sleep 60\n")

        def second_signal():
            wait_until(lambda: "starting" in weft.stderr().splitlines()[-1], 5, "the attempt to start")
            os.kill(pid, signal.SIGUSR2)
            wait_until(lambda: "while an upgrade is in progress: ignored" in weft.stderr(), 5,
                       "the second SIGUSR2 to be ignored")

        attempt(prefix + r"\(process \d+\) was not ready within 10 s; stopped it$", 25, second_signal)

        replace_by_rename(weft_under_test, weft.binary, mode=0o644)
        attempt(rf"^weft: error: upgrade failed, still serving as process {pid}: cannot start "
                rf"{re.escape(weft.binary)}: Permission denied$")

        inode = replace_by_rename(weft_under_test, weft.binary)
        old, new = weft.upgrade()
        check(exe_inode(new) == inode, "the good binary did not take over")
        check(weft.wait_exit(old) == 0, "the old process did not exit 0 after the good upgrade")
        check(http_status(weft.port) == 200, "the new process does not answer")
        os.kill(new, signal.SIGTERM)
        weft.wait_exit(new)
    finally:
        weft.kill_all()


def make_cert(workdir, name):
    cert = os.path.join(workdir, f"{name}.crt")
    key = os.path.join(workdir, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, der


def served_cert(port):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            der = tls.getpeercert(binary_form=True)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = tls.recv(64)
            check(answer.startswith(b"HTTP/1.1 200"), f"HTTPS answer: {answer!r}")
            return der


def redirect_answer(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode(errors="replace")


def scenario_tls(weft_under_test, workdir):
    old_cert, old_key, old_der = make_cert(workdir, "old")
    new_cert, new_key, new_der = make_cert(workdir, "new")
    cert = os.path.join(workdir, "site.crt")
    key = os.path.join(workdir, "site.key")
    shutil.copyfile(old_cert, cert)
    shutil.copyfile(old_key, key)
    weft = start_weft(workdir, weft_under_test, ["-p", "0", "--loops", "2", "--tls-cert", cert, "--tls-key", key,
                                                  "--http-redirect", "0", "--log-level", "info"])
    try:
        check(weft.redirect_port, "no redirect port printed")
        check(served_cert(weft.port) == old_der, "not the first certificate before the upgrade")
        location = f"Location: https://localhost:{weft.port}/x"
        check(location in redirect_answer(weft.redirect_port), "no redirect before the upgrade")
        for source, target in ((new_cert, cert), (new_key, key)):
            shutil.copyfile(source, target + ".new")
            os.rename(target + ".new", target)
        old, new = weft.upgrade()
        check(weft.wait_exit(old) == 0, "the old process did not exit 0")
        check(served_cert(weft.port) == new_der, "the new process does not serve the replaced certificate")
        answer = redirect_answer(weft.redirect_port)
        check(answer.startswith("HTTP/1.1 308") and location in answer,
              f"the redirect port after the upgrade answered: {answer[:200]}")
        last = read(weft.out_path).splitlines()
        check(any(f"sockets from process {old}" in line and f":{weft.port}/" in line for line in last),
              "the new process did not name the sockets it was handed")
        check(any(f"redirecting http://127.0.0.1:{weft.redirect_port}/" in line for line in last[-2:]),
              "the new process does not redirect from the same port")
        print(f"tls: process {old} -> {new}, new certificate served on {weft.port}, redirect {weft.redirect_port}")
        os.kill(new, signal.SIGTERM)
        weft.wait_exit(new)
    finally:
        weft.kill_all()


def scenario_user(weft_under_test, workdir):
    if os.geteuid() != 0:
        print("user: skipped (needs root)")
        sys.exit(77)
    log = os.path.join(workdir, "access.log")
    weft = start_weft(workdir, weft_under_test, ["-p", "0", "--loops", "1", "--user", "nobody",
                                                  "--access-log", log, "--log-level", "info"])
    try:
        check(http_status(weft.port, "/?old") == 200, "no answer before the upgrade")
        inode = replace_by_rename(weft_under_test, weft.binary)
        old, new = weft.upgrade()
        check(exe_inode(new) == inode, "the replaced file did not take over")
        check(weft.wait_exit(old) == 0, "the old process did not exit 0")
        with open(f"/proc/{new}/status") as f:
            uids = re.search(r"^Uid:\s+(.*)$", f.read(), re.M).group(1).split()
        nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout.strip()
        check(set(uids) == {nobody}, f"the new process runs with uids {uids}, expected {nobody}")
        check(http_status(weft.port, "/?new") == 200, "the new process does not answer")
        wait_until(lambda: "GET /?new " in read(log), 5, "the new process's access-log line")
        check("GET /?old " in read(log), "the old process's line is missing")
        print(f"user: process {old} -> {new}, running as uid {nobody}, access log written")
        os.kill(new, signal.SIGTERM)
        weft.wait_exit(new)
    finally:
        weft.kill_all()


class NotifySocket:
    """systemd's side of sd_notify: datagrams with the sender's pid (SCM_CREDENTIALS)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind(path)
        self.sock.settimeout(0.05)
        self.messages = []  # (pid, text)

    def poll(self):
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except (socket.timeout, BlockingIOError):
                return self.messages
            pid = 0
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", payload[:12])[0]
            self.messages.append((pid, data.decode()))

    def has(self, pid, field):
        return any(p == pid and field in text.split("\n") for p, text in self.poll())


def scenario_systemd(weft_under_test, workdir):
    notify = NotifySocket(os.path.join(workdir, "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    weft = start_weft(workdir, weft_under_test, ["-p", "0", "--loops", "1", "--log-level", "info"], env)
    try:
        old = weft.proc.pid
        wait_until(lambda: notify.has(old, "READY=1"), 10, "READY=1 from the first process")
        inode = replace_by_rename(weft_under_test, weft.binary)
        _, new = weft.upgrade()
        check(exe_inode(new) == inode, "the replaced file did not take over")
        wait_until(lambda: notify.has(new, "READY=1"), 10, "READY=1 from the new process")
        texts = [text for pid, text in notify.poll() if pid == new]
        check(texts and texts[0] == f"MAINPID={new}", f"the new process's first message: {texts[:1]}")
        check(weft.wait_exit(old) == 0, "the old process did not exit 0")
        check(not any(pid == old and "STOPPING=1" in text for pid, text in notify.poll()),
              "the old process told systemd it stops, after handing over")
        os.kill(new, signal.SIGTERM)
        weft.wait_exit(new)
        wait_until(lambda: notify.has(new, "STOPPING=1"), 5, "STOPPING=1 from the new process")
        print(f"systemd: process {old} -> {new}: MAINPID={new}, READY=1; no STOPPING=1 from {old}")
    finally:
        weft.kill_all()


def scenario_activated(weft_under_test, workdir):
    port = free_port()
    weft = start_weft(workdir, weft_under_test, ["--loops", "2", "--log-level", "info"], activate_port=port)
    try:
        check(weft.port == port, f"weft serves {weft.port}, systemd-socket-activate bound {port}")
        check("socket from systemd" in read(weft.out_path), "weft did not serve the activated socket")
        inode = replace_by_rename(weft_under_test, weft.binary)
        old, new = weft.upgrade()
        check(exe_inode(new) == inode, "the replaced file did not take over")
        check(weft.wait_exit(old) == 0, "the old process did not exit 0")
        check(any(f"http://127.0.0.1:{port}/ (sockets from process {old}" in line
                  for line in read(weft.out_path).splitlines()), "the new process does not serve the socket")
        check(http_status(port) == 200, "the new process does not answer on the activated socket")
        print(f"activated: process {old} -> {new} on the socket systemd-socket-activate bound ({port})")
        os.kill(new, signal.SIGTERM)
        weft.wait_exit(new)
    finally:
        weft.kill_all()


SCENARIOS = {"activated": scenario_activated, "load": scenario_load, "broken": scenario_broken, "tls": scenario_tls,
             "user": scenario_user, "systemd": scenario_systemd}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weft", required=True, help="the weft binary under test")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    weft = os.path.abspath(args.weft)
    workdir = tempfile.mkdtemp(prefix="weft-upgrade-")
    try:
        SCENARIOS[args.scenario](weft, workdir)
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        for name in ("weft.out", "weft.err"):
            print(f"--- {name}\n{read(os.path.join(workdir, name))}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
