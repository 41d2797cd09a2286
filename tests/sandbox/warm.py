"""Warm start for the sandbox's Python tools: the real aws CLI and the eksctl emulator.

Why: the aws CLI v1 spends ~0.6 CPU-s of every call importing botocore and awscli
(the emulator ~0.4 s importing boto3). On a 2-core CI machine the end-to-end
tests make thousands of such calls; start-up, not work, was most of the suite's time.

How: `sandbox start` runs one server per tool and sandbox (`warm.py serve SOCKET ...`) that
imports those modules once and then waits. The wrappers bin/aws and bin/eksctl run
`warmrun.py SOCKET TOOL SCRIPT ARGS...` (builtins only, ~15 ms) instead of the tool. The server
forks a supervisor per call, which forks the worker; the worker takes the caller's
stdin/stdout/stderr (passed as file descriptors), environment, working directory, argv and
ignored signals, rebuilds sys.stdin/stdout/stderr as start-up does, runs the tool's own script
as `__main__`, and ends as the interpreter ends (threads joined, atexit handlers, streams
flushed; exit 120 when a flush fails). Same code, same inputs: only the imports are shared.

Exit and signals are the tool's own: the client exits with the worker's exit code, or
dies of the worker's signal; SIGINT/SIGTERM/SIGHUP/SIGQUIT sent to the client are
forwarded to the worker (through a pidfd); if the client goes away (SIGKILL, a caller's
timeout), the supervisor kills the worker. `SANDBOX_COLD=1` makes the wrappers exec the
tools directly instead (to rule the warm start out when debugging).
"""

import marshal
import os
import select
import signal
import socket
import sys
import traceback

from warmrun import frame, recv_exact, send_msg

# ------------------------------------------------------------------ the worker


def _become_the_tool(request, fds, preload_env):
    """In the worker: take the caller's place, run the script; returns the exit code (or dies
    of SIGINT, as the interpreter does on an unhandled Ctrl-C)."""
    import time

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        if s in request["ignored"]:
            signal.signal(s, signal.SIG_IGN)
        elif s == signal.SIGINT:
            signal.signal(s, signal.default_int_handler)
        else:
            signal.signal(s, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(request["env"])
    # what importing did to the environment (awscli extends AWS_DATA_PATH)
    os.environ.update(preload_env)
    time.tzset()
    os.chdir(request["cwd"])
    _fresh_stdio()
    sys.orig_argv = [sys.executable, request["script"]] + request["args"]
    return _run_script(request["script"], request["args"])


def _fresh_stdio():
    """sys.stdin/stdout/stderr as the interpreter's start-up makes them for fds 0-2 (the
    encoding and error handlers are the server's: the variables they come from are equal)."""
    import io

    # -u is never given to the tools; PYTHONUNBUFFERED is equal to the server's
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))

    def stream(fd, old, name):
        write = fd != 0
        raw = io.open(fd, "wb" if write else "rb", buffering=0 if (unbuffered and write) else -1, closefd=False)
        try:
            (raw.raw if hasattr(raw, "raw") else raw).name = name
        except AttributeError:
            pass
        line = not unbuffered and (fd == 2 or os.isatty(fd))
        return io.TextIOWrapper(
            raw, encoding=old.encoding, errors=old.errors, newline="\n", line_buffering=line, write_through=unbuffered
        )

    sys.stdin = sys.__stdin__ = stream(0, sys.__stdin__, "<stdin>")
    sys.stdout = sys.__stdout__ = stream(1, sys.__stdout__, "<stdout>")
    sys.stderr = sys.__stderr__ = stream(2, sys.__stderr__, "<stderr>")


def _run_script(argv0, args):
    """What `python ARGV0 ARGS...` does after start-up (cwd: the caller's). A SystemExit goes
    on to the interpreter, which ends the process as it would have ended the tool's."""
    import builtins
    import importlib.machinery
    import types

    sys.argv = [argv0] + args
    path = os.path.abspath(argv0)
    # the interpreter puts the script's directory first (the server's is warm.py's)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    # a fresh __main__, as the interpreter makes it for a script (runpy would set argv[0]
    # to the path it is given)
    main = types.ModuleType("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    try:
        with open(path, "rb") as f:
            source = f.read()
        exec(compile(source, path, "exec"), main.__dict__)
    except KeyboardInterrupt as e:
        # unhandled Ctrl-C: the interpreter prints it, finalizes, and dies of SIGINT
        _print_traceback(e)
        _finalize()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except SystemExit:
        raise
    except BaseException as e:
        _print_traceback(e)
        return 1
    return 0


def _print_traceback(e):
    """The traceback the interpreter prints, without this module's frame."""
    tb = e.__traceback__
    traceback.print_exception(type(e), e, tb.tb_next if tb is not None else None)


def _finalize():
    """The parts of interpreter shutdown a tool can observe: other threads joined, atexit
    handlers run, the standard streams flushed. Returns False when stdout or stderr could not
    be flushed (the interpreter then says so and exits 120)."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
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


def _exit_as_the_interpreter(code):
    """`sys.exit(CODE)` at the top level, then shutdown, without tearing down the modules (a
    tenth of a CPU-second for the aws CLI's, and nothing a tool can see)."""
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write("%s\n" % (code,))
        code = 1
    if not _finalize():
        code = 120
    os._exit(code & 0xFF)


# ------------------------------------------------------------------ the supervisor


def _cold_reason(request, scripts, base_env, read_keys):
    """Why REQUEST cannot be served by this server's imports (None: it can).

    The server imported its modules under its own environment; a request that differs in a
    variable those imports read (awscli: HOME for its credential cache, AWS_DATA_PATH, the
    locale), or one the interpreter's start-up reads, would have imported differently."""
    if os.path.realpath(os.path.join(request["cwd"], request["script"])) != scripts.get(request["tool"]):
        return "not a script this server runs"
    env = request["env"]
    keys = set(read_keys) | {k for k in set(env) | set(base_env) if k.startswith(("PYTHON", "LC_", "LANG"))}
    for key in sorted(keys):
        if env.get(key) != base_env.get(key):
            return "%s differs from the server's" % key
    return None


def _supervise(conn, scripts, base_env, read_keys):
    """One call. Returns (request, fds) in the worker; never returns in the supervisor."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    first, fds, _flags, _addr = socket.recv_fds(conn, 1, 3)
    if len(fds) != 3 or len(first) != 1:
        raise ValueError("expected 1 byte with 3 file descriptors, got %d with %d" % (len(first), len(fds)))
    head = first + recv_exact(conn, 3)
    request = marshal.loads(recv_exact(conn, int.from_bytes(head, "big")))
    reason = _cold_reason(request, scripts, base_env, read_keys)
    if reason is not None:
        # in DIR/warm.log: a call that should have been warm and was not is slow, not wrong
        sys.stderr.write("warm.py: %s %s runs cold: %s\n" % (request["tool"], " ".join(request["args"][:2]), reason))
        sys.stderr.flush()
        send_msg(conn, {"cold": reason})
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        conn.close()
        return request, fds
    reaped = False
    try:
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        # the client signals the worker through this pidfd: never another process on its pid
        started = frame({"pid": pid})
        socket.send_fds(conn, [started[:4]], [pidfd])
        conn.sendall(started[4:])
        while True:
            ready, _, _ = select.select([pidfd, conn], [], [])
            if pidfd in ready:
                _, status = os.waitpid(pid, 0)
                reaped = True
                send_msg(conn, {"exit": os.waitstatus_to_exitcode(status)})
                break
            try:
                data = conn.recv(64)
            except OSError:
                data = b""
            if not data:
                break  # the client is gone (killed): the tool goes with it, below
    except OSError:
        pass  # the client went away while we talked to it
    except BaseException:
        traceback.print_exc()
    finally:
        if not reaped:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        _exit(0)


def _exit(code):
    sys.stderr.flush()
    os._exit(code)


# ------------------------------------------------------------------ the server


class _EnvironReads:
    """Records the names of the environment variables read (`os.environ[...]`, `.get`, `in`,
    `os.getenv`, `expanduser`) inside the `with`; iterating the whole environment counts as
    reading every variable there is."""

    def __enter__(self):
        cls = type(os.environ)
        self._cls, self._getitem, self._iter = cls, cls.__getitem__, cls.__iter__
        keys = self.keys = set()
        getitem, iterate = self._getitem, self._iter

        def recording_getitem(env, key):
            # os.environb is an _Environ too: its bytes keys name the same variables
            keys.add(os.fsdecode(key))
            return getitem(env, key)

        def recording_iter(env):
            names = list(iterate(env))
            keys.update(os.fsdecode(n) for n in names)
            return iter(names)

        cls.__getitem__, cls.__iter__ = recording_getitem, recording_iter
        return keys

    def __exit__(self, *exc):
        self._cls.__getitem__, self._cls.__iter__ = self._getitem, self._iter
        return False


def _reap_children(_signum, _frame):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(sock_path, scripts, preload):
    """Imports PRELOAD, then serves calls until killed. Returns (request, fds, preload_env)
    only in a worker, which is to become the tool."""
    import importlib

    base_env = dict(os.environ)
    calls = []
    with _EnvironReads() as read_keys:
        for spec in preload:
            # MODULE, or MODULE:FUNCTION to call once everything is imported: a function of
            # our own that fills caches which do not depend on the environment
            module, _, function = spec.partition(":")
            imported = importlib.import_module(module)
            if function:
                calls.append(getattr(imported, function))
    read_keys |= set(os.environ) ^ set(base_env)
    for call in calls:
        call()
    preload_env = {k: v for k, v in os.environ.items() if base_env.get(k) != v}
    scripts = {tool: os.path.realpath(path) for tool, path in scripts.items()}
    sys.stderr.write(
        "warm.py: serving %s; the imports read %s\n"
        % (" ".join(sorted(scripts)), " ".join(sorted(read_keys)) or "no variable")
    )
    sys.stdout.flush()
    sys.stderr.flush()
    # reap supervisors (waiting, rather than SIG_IGN, keeps the tools' CPU time in this
    # process's children times, where SANDBOX_CPU_LOG reads it)
    signal.signal(signal.SIGCHLD, _reap_children)
    for stale in (sock_path, sock_path + ".tmp"):
        try:
            os.unlink(stale)
        except FileNotFoundError:
            pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    server.bind(sock_path + ".tmp")
    os.umask(old)
    server.listen(64)
    # appears only once the server accepts
    os.rename(sock_path + ".tmp", sock_path)
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            try:
                request, fds = _supervise(conn, scripts, base_env, read_keys)
            except BaseException:
                traceback.print_exc()
                _exit(1)
            return request, fds, preload_env
        conn.close()


def main(argv):
    usage = "usage: warm.py serve SOCKET [--script TOOL=PATH]... [--preload MODULE[:FUNCTION]]...\n"
    if len(argv) < 3 or argv[1] != "serve":
        sys.stderr.write(usage)
        return 2
    scripts, preload = {}, []
    rest = argv[3:]
    while rest:
        flag, value, rest = rest[0], rest[1] if len(rest) > 1 else None, rest[2:]
        if flag == "--script" and value and "=" in value:
            tool, path = value.split("=", 1)
            scripts[tool] = path
        elif flag == "--preload" and value:
            preload.append(value)
        else:
            sys.stderr.write(usage)
            return 2
    # only a worker gets past this line
    request, fds, preload_env = serve(argv[2], scripts, preload)
    try:
        code = _become_the_tool(request, fds, preload_env)
    except SystemExit as e:
        code = e.code
    _exit_as_the_interpreter(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
