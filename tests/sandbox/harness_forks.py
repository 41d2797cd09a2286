#!/usr/bin/env python3
"""A fork server of Harness stand-ins (harness_api.py), one per test, for tests/harness_api.rs.

Starting Python and importing the stand-in costs about 0.2 s of CPU; forking a process that
has done so already costs a few milliseconds. One fork server serves every test of a run:

  harness_forks.py SOCKET [IDLE_SECONDS]

listens on the Unix socket SOCKET. A client connects and sends one JSON line
`{"key": K, "agents": "a,b", "missing": "404"|"200", "dir": D}`; the fork server forks a
stand-in (as `SANDBOX_HARNESS_API_KEY=K SANDBOX_HARNESS_MISSING=M harness_api.py --agents a,b
--port-file D/harness.port`, working directory D, its log in D/harness.log) that answers
`{"pid": P, "port": N}` on the connection once listening. The stand-in serves until its client
kills it by PID or the connection closes (the client dropped it, or died).

It returns once SOCKET listens, leaving the fork server running in a session of its own; that
exits once no client has come for IDLE_SECONDS (default 5): it removes SOCKET
first, so a client either reaches it before that or finds no socket and starts another
(tests/harness_api.rs does, under a lock). Children are reaped by the kernel (SIGCHLD ignored).
"""

import json
import os
import signal
import socket
import sys
import threading

import harness_api  # imported once, here: what each fork saves


def stand_in(conn):
    """In the forked child: serve one stand-in for the client on `conn`; never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    status = 1
    try:
        spec = json.loads(conn.makefile("r", encoding="utf-8").readline())
        os.chdir(spec["dir"])
        log = os.open("harness.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 2)
        os.environ["SANDBOX_HARNESS_API_KEY"] = spec["key"]
        os.environ["SANDBOX_HARNESS_MISSING"] = spec["missing"]
        os.environ.pop("SANDBOX_DIR", None)

        def listening(port, stop):
            conn.sendall(b'{"pid": %d, "port": %d}\n' % (os.getpid(), port))
            # The client holds the connection while it needs the stand-in: EOF stops it.
            threading.Thread(target=lambda: (conn.recv(1), stop()), daemon=True).start()

        status = harness_api.main(["--agents", spec["agents"], "--port-file", "harness.port"], listening)
    finally:
        sys.stderr.flush()
        os._exit(status)


def main(argv):
    path = argv[1]
    idle = float(argv[2]) if len(argv) > 2 else 5.0
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    # Listening: the starter's wait ends here; the fork server carries on in its own session.
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    server.settimeout(idle)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            break
        conn.settimeout(None)
        if os.fork() == 0:
            server.close()
            stand_in(conn)
        conn.close()
    os.unlink(path)
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
