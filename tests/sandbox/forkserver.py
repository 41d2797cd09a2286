"""A fork server for the sandbox's Python tools (the real aws CLI, the eksctl emulator, moto):
their imports done once, each call run in a fork of the process that did them.

    forkserver.py serve SOCKET --script PATH... [--preload MODULE[:FUNCTION]]... [--same-env VAR]...
    forkserver.py SOCKET SCRIPT [ARG]...        (the client: what the wrappers exec)

Why: the aws CLI v1 spends ~0.6 CPU-s of every call importing botocore and awscli, the
emulator ~0.4 s importing boto3, moto ~2 s: on a 2-core machine that was most of the suite.

The client passes its stdin, stdout and stderr (SCM_RIGHTS), environment, working directory,
argv and ignored signals; the server forks a supervisor, which forks the worker; the worker
takes them over and runs SCRIPT as `python SCRIPT ARG...` would (`__main__`, sys.argv,
sys.path[0]), then ends as the interpreter ends (threads joined, atexit handlers, streams
flushed; exit 120 when a flush fails). The client exits with the worker's code or dies of its
signal; SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to the client are written to the connection and the
supervisor (the worker's parent, so the pid cannot be reused) sends them on; a client that goes
away (SIGKILL, a caller's timeout) takes the worker with it.

The client runs the script itself ("cold") when the warm start could differ from a plain run:
fd 0-2 closed, stdin a terminal (prompts read /dev/tty), the working directory gone, no server
(noted in warm.log next to SOCKET), or the server's verdict: another script, or a variable its
imports read (--same-env, and every PYTHON*/LC_*/LANG*) that differs from the server's.

The client is run once per call, so it imports only modules built into the interpreter.
"""

import _signal
import _socket
import marshal
import os
import sys

FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)

# ------------------------------------------------------------------ the client


def note(sock_path, text):
    """A line in warm.log, where the tests look for cold calls: the calling sandbox's
    (GITOPS_IAM_SANDBOX), whichever server it uses, else the one next to the socket."""
    where = os.environ.get("GITOPS_IAM_SANDBOX") or os.path.dirname(sock_path)
    try:
        with open(os.path.join(where, "warm.log"), "a") as f:
            f.write("forkserver.py: %s\n" % text)
    except OSError:
        pass


def call_name(script, args):
    return " ".join([os.path.basename(script)] + args[:2])


def client_cold_reason():
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            return "fd %d is closed" % fd
    if os.isatty(0):
        return "stdin is a terminal"
    try:
        os.getcwd()
    except OSError:
        return "the working directory is gone"
    return None


def run(sock_path, script, args):
    ignored = [s for s in FORWARDED if _signal.getsignal(s) == _signal.SIG_IGN]
    caught = [s for s in FORWARDED if s not in ignored]

    def forward(signum, _frame):
        try:
            conn.send(bytes([signum]))
        except OSError:
            pass  # the call has ended

    def cold():
        # the caller's dispositions back, then what arrived meanwhile is delivered
        for s in caught:
            _signal.signal(s, _signal.SIG_DFL)
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, caught)
        os.execv(sys.executable, [sys.executable, script] + args)

    # held until the request is sent, so that a signal reaches the worker or the cold run
    _signal.pthread_sigmask(_signal.SIG_BLOCK, caught)
    if client_cold_reason() is not None:
        cold()
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(sock_path)
    except OSError as e:
        note(sock_path, "%s runs cold: the server does not answer (%s)" % (call_name(script, args), e))
        cold()
    request = marshal.dumps(
        {"script": script, "args": args, "env": dict(os.environ), "cwd": os.getcwd(), "ignored": ignored})
    fds = b"".join(fd.to_bytes(4, sys.byteorder) for fd in (0, 1, 2))
    reply = b""
    try:
        # the length travels with the caller's stdin, stdout and stderr
        conn.sendmsg([len(request).to_bytes(4, "big")], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        conn.sendall(request)
        for s in caught:
            _signal.signal(s, forward)
        _signal.pthread_sigmask(_signal.SIG_UNBLOCK, caught)
        while True:
            chunk = conn.recv(256)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass  # the server went away: reported below
    verdict, _, value = reply.decode().partition(" ")
    if verdict == "cold":
        _signal.pthread_sigmask(_signal.SIG_BLOCK, caught)
        conn.close()
        # a call that should have been warm and was not is slow, not wrong
        note(sock_path, "%s runs cold: %s" % (call_name(script, args), value))
        cold()
    if verdict != "exit":
        sys.stderr.write("sandbox wrapper: lost the fork server (%s)\n" % sock_path)
        return 1
    code = int(value)
    if code < 0:
        # the tool died of a signal: die of the same one
        _signal.signal(-code, _signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


# ------------------------------------------------------------------ the worker


def become_the_tool(request, fds, preload_env):
    """In the worker: take the caller's place and run the script, as the interpreter would."""
    import runpy
    import time
    import traceback

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for s in FORWARDED:
        if s in request["ignored"]:
            _signal.signal(s, _signal.SIG_IGN)
        else:
            _signal.signal(s, _signal.default_int_handler if s == _signal.SIGINT else _signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ.update(preload_env)  # what importing did to the environment (awscli: AWS_DATA_PATH)
    time.tzset()
    os.chdir(request["cwd"])
    # the server's streams now write to the caller's fds; a terminal gets line buffering
    if os.isatty(1):
        sys.stdout.reconfigure(line_buffering=True)
    script = request["script"]
    sys.argv = [script] + request["args"]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        code = e.code
    except BaseException as e:
        # the traceback the interpreter prints: from the script's frame on
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        if isinstance(e, KeyboardInterrupt):
            # unhandled Ctrl-C: the interpreter finalizes, then dies of SIGINT
            finalize()
            _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
            os.kill(os.getpid(), _signal.SIGINT)
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write("%s\n" % (code,))
        code = 1
    # no module teardown (a tenth of a CPU-second for the aws CLI's, and nothing a tool sees)
    os._exit(code & 0xFF if finalize() else 120)


def finalize():
    """What of interpreter shutdown a tool can observe: threads joined, atexit handlers run,
    streams flushed. False when stdout or stderr could not be flushed."""
    import atexit

    if "threading" in sys.modules:
        sys.modules["threading"]._shutdown()
    atexit._run_exitfuncs()
    ok = True
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception as e:
            ok = False
            try:
                sys.stderr.write("Exception ignored in: %r\n%s: %s\n" % (f, type(e).__name__, e))
                sys.stderr.flush()
            except Exception:
                pass
    return ok


# ------------------------------------------------------------------ the server


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def supervise(conn, config):
    """One call. Returns (request, fds) in the worker; ends the supervisor."""
    import select
    import socket

    head, fds, _flags, _addr = socket.recv_fds(conn, 4, 3)
    request = marshal.loads(recv_exact(conn, int.from_bytes(head + recv_exact(conn, 4 - len(head)), "big")))
    scripts, base_env, same_env = config
    env = request["env"]
    reason = None
    if os.path.realpath(os.path.join(request["cwd"], request["script"])) not in scripts:
        reason = "not a script this server runs"
    for key in sorted(set(same_env) | {k for k in set(env) | set(base_env) if k.startswith(("PYTHON", "LC_", "LANG"))}):
        if reason is None and env.get(key) != base_env.get(key):
            reason = "%s differs from the server's" % key
    if reason is not None:
        conn.sendall(b"cold " + reason.encode())  # the client notes it and runs cold
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        conn.close()
        return request, fds
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    try:
        while not select.select([pidfd, conn], [], [])[0].count(pidfd):
            signals = conn.recv(64)
            if not signals:
                break  # the client is gone: the tool goes with it
            for signum in signals:
                os.kill(pid, signum)
        else:
            _, status = os.waitpid(pid, 0)
            conn.sendall(b"exit %d" % os.waitstatus_to_exitcode(status))
            os._exit(0)
    except OSError:
        pass  # the client went away while we talked to it
    os.kill(pid, _signal.SIGKILL)
    os.waitpid(pid, 0)
    os._exit(0)


def name_process(name):
    """Names this process (and the calls it forks) for ps, top and perf: `warm-aws` rather than
    `python3` (a process may rename itself through /proc/self/comm; 15 bytes at most)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def serve(argv):
    """Imports what --preload names, then serves calls until killed. Returns only in a worker."""
    import importlib
    import socket

    sock_path, scripts, preload, same_env = argv[0], set(), [], set()
    flags = {"--script": scripts.add, "--preload": preload.append, "--same-env": same_env.add}
    for flag, value in zip(argv[1::2], argv[2::2], strict=True):
        flags[flag](os.path.realpath(value) if flag == "--script" else value)
    base_env = dict(os.environ)
    for spec in preload:
        # MODULE, or MODULE:FUNCTION, a function of ours that fills caches no call depends on
        module, _, function = spec.partition(":")
        imported = importlib.import_module(module)
        if function:
            getattr(imported, function)()
    preload_env = {k: v for k, v in os.environ.items() if base_env.get(k) != v}
    name_process(os.path.basename(sock_path).rsplit(".", 1)[0])
    sys.stdout.flush()
    sys.stderr.flush()

    def reap(_signum, _frame):
        # waiting, rather than SIG_IGN, keeps the calls' CPU in this process's children times
        # (SANDBOX_CPU_LOG)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

    _signal.signal(_signal.SIGCHLD, reap)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for stale in (sock_path, sock_path + ".tmp"):
        if os.path.exists(stale):
            os.unlink(stale)
    old = os.umask(0o077)
    server.bind(sock_path + ".tmp")
    os.umask(old)
    server.listen(64)
    os.rename(sock_path + ".tmp", sock_path)  # appears only once the server accepts
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
            try:
                return supervise(conn, (scripts, base_env, same_env)) + (preload_env,)
            except BaseException:
                import traceback

                traceback.print_exc()
                os._exit(1)
        conn.close()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        become_the_tool(*serve(sys.argv[2:]))
    elif len(sys.argv) >= 3:
        sys.exit(run(sys.argv[1], sys.argv[2], sys.argv[3:]))
    sys.stderr.write(__doc__)
    sys.exit(2)
