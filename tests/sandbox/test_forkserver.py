"""Tests of forkserver.py, the sandbox's warm start: a tool run through it must be
indistinguishable from the same script run by a fresh interpreter (output, exit code, signals,
environment), and the real aws CLI must answer the same warm and cold (SANDBOX_COLD=1)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FORKSERVER = os.path.join(HERE, "forkserver.py")
sys.path.insert(0, HERE)
import sandboxlib
from test_sandbox import SANDBOX, TESTING, R, SandboxTestCase

TOY = textwrap.dedent('''
    import json, os, signal, sys, time
    import toy_mod
    mode = sys.argv[1]
    if mode == "echo":
        print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "toy": os.environ.get("TOY"),
                          "stdin": sys.stdin.read(), "path0": sys.path[0], "name": __name__,
                          "pid": os.getpid(), "at_import": toy_mod.AT_IMPORT}))
        sys.stderr.write("to stderr\\n")
        sys.exit(int(sys.argv[2]))
    if mode == "raise":
        raise RuntimeError("boom")
    if mode == "exit-text":
        sys.exit("a message")
    if mode == "die-of-term":
        sys.stdout.write("before\\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    if mode == "finalize":
        import atexit, threading
        atexit.register(lambda: print("atexit ran"))
        threading.Thread(target=lambda: (time.sleep(0.3), print("thread done"))).start()
        sys.exit(3)
    if mode == "unflushed":
        sys.stdout.write("never read\\n")
        sys.exit(0)
    if mode == "stdin-state":
        print(json.dumps({"pid": os.getpid(), "stdin": sys.stdin is None}))
        sys.exit(0)
    if mode in ("sleep", "sleep-handled"):
        with open(sys.argv[2], "w") as f:
            f.write(str(os.getpid()))
        try:
            time.sleep(60)
        except KeyboardInterrupt:
            if mode == "sleep-handled":
                print("interrupted")
                sys.exit(130)
            raise
''')

# read when imported (--same-env): a request with another value must not be served warm
TOY_MOD = 'import os\nAT_IMPORT = os.environ.get("TOY_IMPORT", "unset")\n'


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def as_from_a_terminal():
    """The signal dispositions of a command started from a terminal. A job that a
    non-interactive shell starts in the background (as scripts/test starts these tests)
    ignores SIGINT and SIGQUIT, and so do its children, warm or cold."""
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(s, signal.SIG_DFL)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class WarmTestCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="warm-")
        cls.toy = os.path.join(cls.dir, "toy.py")
        with open(cls.toy, "w") as f:
            f.write(TOY)
        with open(os.path.join(cls.dir, "toy_mod.py"), "w") as f:
            f.write(TOY_MOD)
        cls.sock = os.path.join(cls.dir, "warm.sock")
        cls.log = os.path.join(cls.dir, "warm.log")
        with open(cls.log, "wb") as log:
            cls.server = subprocess.Popen(
                [sys.executable, FORKSERVER, "serve", cls.sock, "--script", cls.toy, "--preload", "toy_mod",
                 "--same-env", "TOY_IMPORT"],
                stdin=subprocess.DEVNULL, stderr=log, start_new_session=True,
                env=dict(os.environ, PYTHONPATH=cls.dir, TOY_IMPORT="server"))
        deadline = time.monotonic() + 30
        while not os.path.exists(cls.sock):
            if cls.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("forkserver.py serve did not start: %s" % read(cls.log))
            time.sleep(0.02)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(10)
        shutil.rmtree(cls.dir, True)

    def server_log(self):
        return read(self.log)

    def env(self, **extra):
        return dict(os.environ, **dict({"PYTHONPATH": self.dir, "TOY_IMPORT": "server"}, **extra))

    def warm(self, *args, script=None, **kw):
        return [sys.executable, "-S", "-E", FORKSERVER, self.sock, script or self.toy, *args]

    def cold(self, *args):
        return [sys.executable, self.toy, *args]

    def both(self, *args, input_=None, env=None, cwd=None):
        out = []
        for argv in (self.warm(*args), self.cold(*args)):
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=env or self.env(), cwd=cwd, text=True)
            stdout, stderr = p.communicate(input_, timeout=60)
            out.append((p.pid, p.returncode, stdout, stderr))
        return out


class TestWarmRunsLikeAFreshInterpreter(WarmTestCase):
    def test_argv_stdin_stdout_stderr_cwd_environment_and_exit_code_are_the_callers(self):
        cwd = tempfile.mkdtemp(prefix="warm-cwd-")
        self.addCleanup(shutil.rmtree, cwd, True)
        (wpid, wrc, wout, werr), (cpid, crc, cout, cerr) = self.both(
            "echo", "3", "a b", "", input_="from stdin\n", env=self.env(TOY="mine"), cwd=cwd)
        warm, cold = json.loads(wout), json.loads(cout)
        self.assertNotEqual(warm.pop("pid"), wpid, "served warm: another process runs the script")
        self.assertEqual(cold.pop("pid"), cpid)
        self.assertEqual(warm, cold)
        self.assertEqual(warm["argv"], [self.toy, "echo", "3", "a b", ""])
        self.assertEqual((warm["cwd"], warm["toy"], warm["stdin"]), (cwd, "mine", "from stdin\n"))
        self.assertEqual((warm["path0"], warm["name"], warm["at_import"]), (self.dir, "__main__", "server"))
        self.assertEqual((wrc, werr), (crc, cerr))
        self.assertEqual((wrc, werr), (3, "to stderr\n"))

    def test_a_script_named_relative_to_the_callers_directory_is_served_with_that_argv0(self):
        p = subprocess.Popen(self.warm("echo", "0", script="toy.py"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env(), cwd=self.dir, text=True)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        got = json.loads(out)
        self.assertNotEqual(got["pid"], p.pid, "served warm")
        self.assertEqual((got["argv"], got["path0"]), (["toy.py", "echo", "0"], self.dir))

    def test_an_uncaught_exception_and_sys_exit_with_text_exit_1_with_the_message(self):
        (_, wrc, _, werr), (_, crc, _, cerr) = self.both("raise")
        self.assertEqual((wrc, werr), (crc, cerr), "the same traceback")
        self.assertEqual(wrc, 1)
        self.assertEqual(werr.splitlines()[-1], "RuntimeError: boom")
        (_, wrc, _, werr), (_, crc, _, cerr) = self.both("exit-text")
        self.assertEqual((wrc, werr), (crc, cerr))
        self.assertEqual((wrc, werr), (1, "a message\n"))

    def test_interpreter_shutdown_joins_threads_runs_atexit_and_reports_a_broken_stdout(self):
        (_, wrc, wout, werr), (_, crc, cout, cerr) = self.both("finalize")
        self.assertEqual((wrc, wout, werr), (crc, cout, cerr))
        self.assertEqual((wrc, wout), (3, "thread done\natexit ran\n"))
        # stdout a pipe nobody reads
        results = []
        for argv in (self.warm("unflushed"), self.cold("unflushed")):
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run(argv, stdout=w, stderr=subprocess.PIPE, env=self.env(), text=True, timeout=60)
            os.close(w)
            results.append((p.returncode, p.stderr))
        self.assertEqual(results[0], results[1])
        self.assertNotEqual(results[0][0], 0)
        self.assertIn("BrokenPipeError", results[0][1])

    def test_a_closed_stdin_runs_the_script_cold(self):
        p = subprocess.run(["bash", "-c", 'exec "$@" <&-', "_"] + self.warm("stdin-state"),
                           capture_output=True, text=True, env=self.env(), timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["stdin"], True, "no stdin, as for a plain interpreter")

    def test_a_signal_the_caller_ignores_stays_ignored(self):
        def ignore_hup():
            as_from_a_terminal()
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

        pid_file = os.path.join(self.dir, "ignored.pid")
        p = subprocess.Popen(self.warm("sleep-handled", pid_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.env(), text=True, preexec_fn=ignore_hup)
        deadline = time.monotonic() + 30
        while not read(pid_file):
            self.assertLess(time.monotonic(), deadline, "the script did not start")
            time.sleep(0.02)
        p.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "SIGHUP, ignored by the caller, ended the call")
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (130, "interrupted\n"))

    def test_a_script_that_dies_of_a_signal_kills_the_client_with_it(self):
        (_, wrc, wout, _), (_, crc, cout, _) = self.both("die-of-term")
        self.assertEqual((wrc, wout), (crc, cout))
        self.assertEqual((wrc, wout), (-signal.SIGTERM, "before\n"))

    def sleeping(self, mode):
        pid_file = os.path.join(self.dir, "%s.pid" % mode)
        if os.path.exists(pid_file):
            os.unlink(pid_file)
        p = subprocess.Popen(self.warm(mode, pid_file), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=as_from_a_terminal,
                             env=self.env(), text=True)
        deadline = time.monotonic() + 30
        while not read(pid_file):
            self.assertLess(time.monotonic(), deadline, "the script did not start")
            time.sleep(0.02)
        worker = int(read(pid_file))
        self.assertNotEqual(worker, p.pid)
        return p, worker

    def test_sigint_reaches_the_script_like_ctrl_c(self):
        p, _ = self.sleeping("sleep-handled")
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (130, "interrupted\n"))
        # unhandled: the interpreter dies of SIGINT, and so does the client
        p, _ = self.sleeping("sleep")
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGINT)
        self.assertIn("KeyboardInterrupt", err)

    def test_sigterm_to_the_client_stops_the_script(self):
        p, worker = self.sleeping("sleep")
        p.terminate()
        p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        self.assertFalse(alive(worker))

    def test_killing_the_client_kills_the_script(self):
        p, worker = self.sleeping("sleep")
        p.kill()
        p.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(worker), "the script outlived its killed client")


class TestWarmFallsBackToCold(WarmTestCase):
    def run_toy(self, env, script=None):
        p = subprocess.run(self.warm("echo", "0", script=script), capture_output=True, text=True, env=env,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_a_same_env_variable_that_differs_runs_the_script_cold(self):
        seen = len(self.server_log())
        warm = self.run_toy(self.env())
        self.assertEqual(warm["at_import"], "server")
        self.assertNotIn("runs cold", self.server_log()[seen:])
        cold = self.run_toy(self.env(TOY_IMPORT="caller"))
        self.assertEqual(cold["at_import"], "caller", "imported under the caller's environment")
        self.assertIn("toy.py echo 0 runs cold: TOY_IMPORT differs from the server's", self.server_log()[seen:])

    def test_a_locale_that_differs_runs_the_script_cold(self):
        out = self.run_toy(self.env(LC_ALL="C"))
        self.assertEqual(out["argv"], [self.toy, "echo", "0"])

    def test_a_script_the_server_was_not_started_for_runs_cold(self):
        other = os.path.join(self.dir, "other.py")
        shutil.copy(self.toy, other)
        out = self.run_toy(self.env(), script=other)
        self.assertEqual(out["argv"], [other, "echo", "0"])

    def test_no_server_runs_the_script_cold_and_notes_it_in_warm_log(self):
        seen = len(self.server_log())
        p = subprocess.Popen([sys.executable, FORKSERVER, self.sock + ".gone", self.toy, "stdin-state"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env())
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(json.loads(out)["pid"], p.pid, "cold: the client became the script")
        self.assertIn("toy.py stdin-state runs cold: the server does not answer", self.server_log()[seen:])


class TestRealAwsWarmAndCold(SandboxTestCase):
    """The real aws CLI through the sandbox wrapper: warm (default) and SANDBOX_COLD=1 agree."""

    def test_same_output_exit_code_and_identity_warm_and_cold(self):
        d, env = self.start_sandbox()
        policy = os.path.join(d, "trust.json")
        with open(policy, "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, f)
        # a relative file:// path: the CLI reads it from the caller's working directory
        created = subprocess.run(["aws", "iam", "create-role", "--role-name", "R", "--assume-role-policy-document",
                                  "file://trust.json", "--output", "json"],
                                 capture_output=True, text=True, env=env, cwd=d, timeout=120)
        self.assertEqual(created.returncode, 0, created.stderr)
        calls = [
            ["aws", "iam", "get-role", "--role-name", "R", "--query", "Role.AssumeRolePolicyDocument"],
            ["aws", "iam", "get-role", "--role-name", "missing"],
            ["aws", "iam", "no-such-operation"],
            ["aws", "--profile", "testing", "sts", "get-caller-identity", "--query", "Account", *R],
            ["aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text"],
            # models, paginators, waiters and endpoint rules from the server's shared caches
            # (botocore_warm.py), for services and accounts other than the ones above
            ["aws", "iam", "list-roles", "--max-items", "1", "--output", "json"],
            ["aws", "eks", "list-clusters", "--region", "us-east-1"],
            ["aws", "--profile", "testing", "cloudformation", "list-stacks", *R],
            ["aws", "eks", "wait", "cluster-active", "--name", "missing", "--region", "us-east-1"],
        ]
        for argv in calls:
            warm = self.run_tool(env, *argv)
            cold = self.run_tool(env, *argv, extra={"SANDBOX_COLD": "1"})
            self.assertEqual((warm.returncode, warm.stdout, warm.stderr),
                             (cold.returncode, cold.stdout, cold.stderr), argv)
        self.assertEqual(json.loads(self.run_tool(env, *calls[0], check=0).stdout)["Statement"][0]["Principal"],
                         {"Service": "eks.amazonaws.com"})
        self.assertEqual(self.run_tool(env, *calls[1]).returncode, 255)
        self.assertEqual(self.run_tool(env, *calls[2]).returncode, 2)
        self.assertEqual(self.run_tool(env, *calls[3], check=0).stdout.strip(), '"%s"' % TESTING)
        # assumed-role credentials are cached in the sandbox's own HOME, never the user's
        self.assertTrue(os.listdir(os.path.join(d, "aws-home", ".aws", "cli", "cache")))



def _children(pid):
    """The PIDs of PID's children (all its threads')."""
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            out += [int(c) for c in f.read().split()]
    return out


class TestSharedMoto(SandboxTestCase):
    """`sandbox share DIR`: sandboxes fork their moto from one server; each keeps its own state."""

    def test_two_sandboxes_fork_moto_from_one_server_each_with_its_own_state_and_stop_leaves_none(self):
        shared = tempfile.mkdtemp(prefix="gitops-iam-shared-")
        self.addCleanup(shutil.rmtree, shared, True)
        self.addCleanup(subprocess.run, [SANDBOX, "stop", shared], capture_output=True, timeout=60)
        r = subprocess.run([SANDBOX, "share", shared], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        sock = os.path.join(shared, "warm-moto.sock")
        eksctl_sock = os.path.join(shared, "warm-eksctl.sock")
        self.assertEqual(r.stdout.split(), ["SANDBOX_SHARED_MOTO=" + sock, "SANDBOX_SHARED_EKSCTL=" + eksctl_sock])
        with open(os.path.join(shared, "pids")) as f:
            server = int(f.read().split("\t")[0])
        (d1, env1), (d2, env2) = (self.start_sandbox(SANDBOX_SHARED_MOTO=sock, SANDBOX_SHARED_EKSCTL=eksctl_sock)
                                  for _ in range(2))
        # each sandbox's moto is a worker of the shared server (one supervisor per call)
        self.assertEqual(len(_children(server)), 2)
        # and its eksctl calls go to the shared eksctl server: it starts none of its own
        for d, env in ((d1, env1), (d2, env2)):
            self.assertEqual(env["SANDBOX_WARM_EKSCTL"], eksctl_sock)
            self.assertNotIn("warm eksctl", [p[2] for p in sandboxlib.read_pids(d)])
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        self.run_tool(env1, "aws", "iam", "create-role", "--role-name", "OnlyInOne",
                      "--assume-role-policy-document", trust, check=0)
        names = [[r["RoleName"] for r in self.aws_json(env, "iam", "list-roles")["Roles"]] for env in (env1, env2)]
        self.assertIn("OnlyInOne", names[0])
        self.assertNotIn("OnlyInOne", names[1])
        # the shared eksctl server's calls (aws_state.py, which it runs too) read their own sandbox
        state = "iam get-account-authorization-details --filter Role"
        names = [[r["RoleName"] for r in json.loads(self.run_tool(
            env, os.path.join(HERE, "aws_state.py"), "--region", "us-east-1", check=0).stdout)[state]["RoleDetailList"]]
            for env in (env1, env2)]
        self.assertIn("OnlyInOne", names[0])
        self.assertNotIn("OnlyInOne", names[1])
        for d in (shared, d1, d2):
            with open(os.path.join(d, "warm.log")) as f:
                self.assertNotIn("runs cold", f.read())
        for d in (d1, d2):
            subprocess.run([SANDBOX, "stop", d], capture_output=True, timeout=60, check=True)
        deadline = time.monotonic() + 10
        while _children(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(_children(server), [], "a moto outlived its sandbox")


if __name__ == "__main__":
    unittest.main()
