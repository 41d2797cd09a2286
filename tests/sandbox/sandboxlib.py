"""Shared helpers for the gitops-iam sandbox (stdlib only).

The sandbox emulates AWS (moto_server), EKS clusters (bin/eksctl plus one
kubeapi.py per cluster) and the Harness GitOps API (harness_api.py), so that the
product can run end to end with the real `aws` and `kubectl` clients.

This module holds what more than one of those pieces needs:

* the command log (JSON lines) and the fault injection that bin/aws,
  bin/kubectl (bash, wrapperlib.sh) and bin/eksctl (Python) share, with its one
  Python reader `read_command_log`.  wrapperlib.sh re-implements the writer,
  `shell_quote` and the counter protocol; keep both sides in step
  (test_sandbox.TestCommandLog checks that they write identical lines).
* the PID file of a sandbox (every process a sandbox starts, with its start time
  so that `sandbox stop` never kills a recycled PID).
* the per-cluster records under DIR/clusters/.
"""

import errno
import fcntl
import json
import os
import re
import signal
import time
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))

# Words made only of these characters are written unquoted (same set as
# Python's shlex.quote).
_SAFE = re.compile(r"^[A-Za-z0-9@%+=:,./_-]+$")


def shell_quote(word):
    """Quote one argv word for a single-line bash command.

    * empty -> ''
    * only safe characters -> unchanged
    * contains a control character (newline, tab, ...) -> $'...' with \\n, \\t,
      \\r, \\xHH escapes, so that a logged command always fits on one line
    * otherwise -> '...' with ' written as '"'"'
    """
    if word == "":
        return "''"
    if _SAFE.match(word):
        return word
    if any(unicodedata.category(c) == "Cc" for c in word):
        out = ["$'"]
        for c in word:
            if c == "\\":
                out.append("\\\\")
            elif c == "'":
                out.append("\\'")
            elif c == "\n":
                out.append("\\n")
            elif c == "\t":
                out.append("\\t")
            elif c == "\r":
                out.append("\\r")
            elif unicodedata.category(c) == "Cc" and ord(c) < 256:
                out.append("\\x%02x" % ord(c))
            else:
                out.append(c)
        out.append("'")
        return "".join(out)
    return "'" + word.replace("'", "'\"'\"'") + "'"


def shell_join(argv):
    return " ".join(shell_quote(a) for a in argv)


# ---------------------------------------------------------------- sandbox dir

class SandboxError(Exception):
    pass


def sandbox_dir(required=True):
    d = os.environ.get("GITOPS_IAM_SANDBOX", "")
    if not d:
        if required:
            raise SandboxError(
                "GITOPS_IAM_SANDBOX is not set: source DIR/env.sh of a sandbox started "
                "with tests/sandbox/sandbox start DIR")
        return None
    if not os.path.isdir(d):
        if required:
            raise SandboxError("GITOPS_IAM_SANDBOX=%s is not a directory (sandbox stopped or removed?)" % d)
        return None
    return d


class FileLock:
    """flock(2) on a file; compatible with `flock` from util-linux used by the bash wrappers."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


def record_command(tool, mutating, argv):
    """Append the command to DIR/commands.log; decide fault injection.

    Returns True when this invocation must fail (SANDBOX_FAIL_NTH /
    SANDBOX_FAIL_MATCH, which matches the shell-quoted line).  Same protocol as
    bin/aws and bin/kubectl: under an exclusive flock on DIR/.lock, bump
    DIR/mutating-count for a mutating command, then append one JSON line.
    """
    d = sandbox_dir(required=False)
    if d is None:
        return False
    argv = [tool] + list(argv)
    inject = False
    with FileLock(os.path.join(d, ".lock")):
        if mutating:
            count_path = os.path.join(d, "mutating-count")
            try:
                with open(count_path) as f:
                    n = int(f.read().strip() or "0")
            except (OSError, ValueError):
                n = 0
            n += 1
            with open(count_path, "w") as f:
                f.write("%d\n" % n)
            nth = os.environ.get("SANDBOX_FAIL_NTH", "")
            if nth and nth.strip() == str(n):
                inject = True
            pattern = os.environ.get("SANDBOX_FAIL_MATCH", "")
            if pattern and re.search(pattern, shell_join(argv)):
                inject = True
        entry = {"argv": argv, "mutating": bool(mutating), "injected": inject}
        # compact and UTF-8 as it is: what wrapperlib.sh writes too
        data = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        fd = os.open(os.path.join(d, "commands.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return inject


def read_command_log(d):
    """DIR/commands.log as dicts {argv, mutating, injected, tool, line}.

    tool is argv[0]; line is shell_join(argv), what SANDBOX_FAIL_MATCH matches.
    A line that is not such an entry raises: the format changed under a reader.
    """
    try:
        f = open(os.path.join(d, "commands.log"), encoding="utf-8")
    except FileNotFoundError:
        return []
    out = []
    with f:
        for raw in f:
            entry = json.loads(raw)
            if set(entry) != {"argv", "mutating", "injected"} or not entry["argv"]:
                raise ValueError("not a command-log entry: %r" % raw)
            out.append(dict(entry, tool=entry["argv"][0], line=shell_join(entry["argv"])))
    return out


# ---------------------------------------------------------------- PIDs

def _proc_stat(pid):
    """Fields 3.. of /proc/PID/stat (rest[0] is field 3, the state), or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'
    return data[data.rindex(")") + 2:].split()


def _ints(rest, fields):
    """Fields number FIELDS (as proc(5) numbers them) of REST = _proc_stat(...), or None."""
    if not rest:
        return None
    try:
        return [int(rest[n - 3]) for n in fields]
    except (IndexError, ValueError):
        return None


def proc_start_time(pid):
    """Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    rest = _proc_stat(pid)
    if rest and rest[0] == "Z":
        return None  # zombie: already dead
    got = _ints(rest, (22,))
    return got[0] if got else None


def proc_cpu_seconds(pid):
    """CPU time of a process and of the children it waited for (utime+stime+cutime+cstime,
    fields 14-17 of /proc/PID/stat), in seconds; None when it does not run."""
    got = _ints(_proc_stat(pid), (14, 15, 16, 17))
    return sum(got) / os.sysconf("SC_CLK_TCK") if got else None


def add_pid(d, pid, name):
    """Record a process started by this sandbox: 'PID<TAB>STARTTIME<TAB>NAME' in DIR/pids."""
    start = proc_start_time(pid) or 0
    with FileLock(os.path.join(d, ".lock")):
        fd = os.open(os.path.join(d, "pids"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, ("%d\t%d\t%s\n" % (pid, start, name)).encode())
        finally:
            os.close(fd)


def read_pids(d):
    out = []
    try:
        with open(os.path.join(d, "pids")) as f:
            for raw in f:
                parts = raw.rstrip("\n").split("\t")
                if not parts or not parts[0].strip().isdigit():
                    continue
                pid = int(parts[0])
                start = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
                name = parts[2] if len(parts) > 2 else ""
                out.append((pid, start, name))
    except FileNotFoundError:
        pass
    return out


def pid_alive(pid, start):
    """True when PID runs and is the process that was recorded (same start time)."""
    now = proc_start_time(pid)
    if now is None:
        return False
    return start == 0 or now == start


def stop_pid(pid, start, grace=3.0):
    """TERM, then KILL after `grace` seconds; only if PID is still the recorded process."""
    if not pid_alive(pid, start):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid, start):
            return
        _reap(pid)
        time.sleep(0.05)
    if pid_alive(pid, start):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        for _ in range(100):
            _reap(pid)
            if not pid_alive(pid, start):
                return
            time.sleep(0.02)


def _reap(pid):
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except OSError as e:
        if e.errno != errno.ECHILD:
            raise


# ---------------------------------------------------------------- cluster records

def cluster_key(account, region, name):
    return "%s-%s-%s" % (account, region, name)


def cluster_record_path(d, account, region, name):
    return os.path.join(d, "clusters", cluster_key(account, region, name) + ".json")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json_atomic(path, obj):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def wait_port_file(path, proc=None, timeout=20.0):
    """Wait until `path` holds a port number; returns it or None on timeout / process exit."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                txt = f.read().strip()
            if txt.isdigit():
                return int(txt)
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None
