"""Client of the sandbox's warm start (warm.py): `warmrun.py SOCKET TOOL SCRIPT [ARG]...` runs
`python SCRIPT ARG...` in the warm-start server at SOCKET and ends as that would have: same
output (the caller's stdin/stdout/stderr are passed over), exit code or fatal signal.

Run once per aws/eksctl call, so it imports only what is built into the interpreter (~15 ms,
where `import socket, json` alone would take 40). The wire format (marshal, a 4-byte length
first) is shared with warm.py, which imports this module for it.
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


def run(sock_path, tool, script, args):
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
    except OSError as e:
        sys.stderr.write(
            "sandbox %s wrapper: the warm-start server at %s does not answer (%s); is the sandbox "
            "running? (SANDBOX_COLD=1 runs the tool without it)\n" % (tool, sock_path, e.strerror or e)
        )
        return 1
    request = frame({"tool": tool, "script": script, "args": args, "env": dict(os.environ), "cwd": os.getcwd()})
    # the first byte travels with the caller's stdin, stdout and stderr (SCM_RIGHTS: C ints)
    fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
    conn.sendmsg([request[:1]], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
    conn.sendall(request[1:])
    worker = []
    pending = []

    def forward(signum, _frame):
        if not worker:
            pending.append(signum)
            return
        try:
            os.kill(worker[0], signum)
        except ProcessLookupError:
            pass

    for s in FORWARDED:
        _signal.signal(s, forward)
    try:
        started = recv_msg(conn)
        if "cold" in started:
            # the server's imports would not match this call's: run it as the wrapper would have
            conn.close()
            for s in FORWARDED:
                _signal.signal(s, _signal.SIG_DFL)
            os.execv(sys.executable, [sys.executable, script] + args)
        worker.append(started["pid"])
        for s in pending:
            forward(s, None)
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
