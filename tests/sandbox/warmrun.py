"""Client of the sandbox's warm start (warm.py): `warmrun.py SOCKET TOOL SCRIPT [ARG]...` runs
`python SCRIPT ARG...` in the warm-start server at SOCKET and ends as that would have: same
output (the caller's stdin/stdout/stderr are passed over), exit code or fatal signal.

Run once per aws/eksctl call, so it imports only what is built into the interpreter (~15 ms,
where `import socket, json` alone would take 40). The wire format (marshal, a 4-byte length
first) is shared with warm.py, which imports this module for it.

Whenever the warm start could differ from a plain run, this execs `python SCRIPT ARG...`
itself ("cold"): a closed or terminal stdin/stdout/stderr, a working directory that no longer
exists, a server that does not answer (noted in DIR/warm.log), or the server's own verdict.
"""

import _signal
import _socket
import marshal
import os
import sys

# Signals a caller may send to the tool: forwarded to the worker that runs it.
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def frame(obj):
    data = marshal.dumps(obj)
    return len(data).to_bytes(4, "big") + data


def send_msg(conn, obj):
    conn.sendall(frame(obj))


def recv_msg(conn):
    return marshal.loads(recv_exact(conn, int.from_bytes(recv_exact(conn, 4), "big")))


def pack_fds(fds):
    """SCM_RIGHTS data: C ints."""
    return b"".join(fd.to_bytes(4, sys.byteorder) for fd in fds)


def recv_msg_with_fd(conn):
    """A message that comes with one file descriptor (SCM_RIGHTS): (message, fd or None)."""
    data, ancillary, _flags, _addr = conn.recvmsg(4, _socket.CMSG_SPACE(4))
    fd = None
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS and len(payload) >= 4:
            fd = int.from_bytes(payload[:4], sys.byteorder)
    if not data:
        raise EOFError("connection closed")
    head = data + recv_exact(conn, 4 - len(data))
    return marshal.loads(recv_exact(conn, int.from_bytes(head, "big"))), fd


def cold_reason():
    """Why this call must not be served warm, seen from the client (None: it may be)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            return "fd %d is closed" % fd
    if os.isatty(0):
        # the worker has no controlling terminal: prompts (getpass, MFA) read /dev/tty
        return "stdin is a terminal"
    try:
        os.getcwd()
    except OSError:
        return "the working directory is gone"
    return None


class Signals:
    """Forwards the caller's signals to the worker; holds them until the worker is known.
    Signals the caller ignores stay ignored (and are ignored in the worker too)."""

    def __init__(self):
        self.ignored = [s for s in FORWARDED if _signal.getsignal(s) == _signal.SIG_IGN]
        self.pidfd = None
        self.pending = []
        for s in FORWARDED:
            if s not in self.ignored:
                _signal.signal(s, self.forward)

    def forward(self, signum, _frame):
        if self.pidfd is None:
            self.pending.append(signum)
            return
        try:
            # through a pidfd: the worker's pid may be reused once it is reaped
            _signal.pidfd_send_signal(self.pidfd, signum)
        except ProcessLookupError:
            pass

    def attach(self, pidfd):
        self.pidfd = pidfd
        for s in self.pending:
            self.forward(s, None)

    def restore(self):
        """Back to the dispositions the caller gave; then what arrived meanwhile, delivered."""
        for s in FORWARDED:
            if s not in self.ignored:
                _signal.signal(s, _signal.SIG_DFL)
        for s in self.pending:
            os.kill(os.getpid(), s)


def exec_cold(script, args, signals=None):
    if signals is not None:
        signals.restore()
    os.execv(sys.executable, [sys.executable, script] + args)


def note(sock_path, text):
    """A line in DIR/warm.log (next to the socket), where the tests look for cold calls."""
    try:
        with open(os.path.join(os.path.dirname(sock_path), "warm.log"), "a") as f:
            f.write("warmrun.py: %s\n" % text)
    except OSError:
        pass


def run(sock_path, tool, script, args):
    if cold_reason() is not None:
        exec_cold(script, args)
    signals = Signals()
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
    except OSError as e:
        note(sock_path, "%s %s runs cold: the server does not answer (%s)" % (tool, " ".join(args[:2]), e))
        conn.close()
        exec_cold(script, args, signals)
    request = frame(
        {
            "tool": tool,
            "script": script,
            "args": args,
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "ignored": signals.ignored,
        }
    )
    try:
        # the first byte travels with the caller's stdin, stdout and stderr
        conn.sendmsg([request[:1]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, pack_fds((0, 1, 2)))])
        conn.sendall(request[1:])
        started, pidfd = recv_msg_with_fd(conn)
        if "cold" in started:
            # the server's imports would not match this call's
            conn.close()
            exec_cold(script, args, signals)
        if pidfd is None:
            raise ValueError("no pidfd for the worker")
        signals.attach(pidfd)
        code = recv_msg(conn)["exit"]
    except (EOFError, OSError, ValueError) as e:
        sys.stderr.write("sandbox %s wrapper: lost the warm-start server: %s\n" % (tool, e))
        return 1
    if code < 0:
        # the tool died of a signal: die of the same one
        _signal.signal(-code, _signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.stderr.write("usage: warmrun.py SOCKET TOOL SCRIPT [ARG]...\n")
        sys.exit(2)
    sys.exit(run(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
