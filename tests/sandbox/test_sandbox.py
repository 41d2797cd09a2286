"""Tests of the gitops-iam sandbox itself (stdlib unittest).

Run from the repository root:  python3 -m unittest tests/sandbox/test_sandbox.py

Every test starts its own sandbox in a temporary directory and stops it again
(also when the test fails).  Needs moto_server, aws (CLI v1) and kubectl on PATH.
When tests/sandbox/kubeapi.py (the Kubernetes API emulator) is not there yet,
the tests fall back to a minimal ConfigMap-only stub written into the sandbox
directory (SANDBOX_KUBEAPI), and the tests that need more than that are skipped.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SANDBOX = os.path.join(HERE, "sandbox")
KUBEAPI = os.path.join(HERE, "kubeapi.py")
sys.path.insert(0, HERE)
import sandboxlib

R = ["--region", "us-east-1"]
MGMT = "123456789012"
TESTING = "222222222222"

# Minimal stand-in for kubeapi.py (configmaps only), used only while kubeapi.py is missing.
STUB_KUBEAPI = textwrap.dedent('''
    import argparse, json, os, signal, threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    p = argparse.ArgumentParser()
    for f in ("--port-file", "--host", "--seed", "--log", "--rollout-delay"):
        p.add_argument(f)
    a = p.parse_args()
    objs, rv, lock = {}, [1], threading.Lock()
    def stamp(o, uid=None):
        o["metadata"]["resourceVersion"] = str(rv[0]); o["metadata"]["uid"] = uid or "uid-%d" % rv[0]; rv[0] += 1
    for o in (json.load(open(a.seed)) if a.seed else []):
        stamp(o); objs[(o["metadata"].get("namespace"), o["metadata"]["name"])] = o
    RES = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [{"name": "configmaps",
           "singularName": "configmap", "namespaced": True, "kind": "ConfigMap", "shortNames": ["cm"],
           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}
    class H(BaseHTTPRequestHandler):
        def log_message(self, *x): pass
        def send(self, code, obj):
            d = json.dumps(obj).encode(); self.send_response(code)
            self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(d)))
            self.end_headers(); self.wfile.write(d)
        def fail(self, code, reason, msg):
            self.send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": msg, "reason": reason, "code": code})
        def parts(self): return self.path.split("?")[0].strip("/").split("/")
        def do_GET(self):
            path = "/" + "/".join(self.parts())
            fixed = {"/version": {"major": "1", "minor": "32", "gitVersion": "v1.32.4"},
                     "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
                     "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}, "/api/v1": RES}
            if path in fixed: return self.send(200, fixed[path])
            p = self.parts()
            if len(p) == 6 and p[4] == "configmaps":
                with lock: o = objs.get((p[3], p[5]))
                return self.send(200, o) if o else self.fail(404, "NotFound", 'configmaps "%s" not found' % p[5])
            self.fail(404, "NotFound", "the server could not find the requested resource")
        def body(self): return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        def do_PUT(self):
            p, o = self.parts(), self.body()
            with lock:
                cur = objs.get((p[3], p[5]))
                if cur is None: return self.fail(404, "NotFound", 'configmaps "%s" not found' % p[5])
                if o["metadata"].get("resourceVersion") != cur["metadata"]["resourceVersion"]:
                    return self.fail(409, "Conflict", 'Operation cannot be fulfilled on configmaps "%s": the object has been modified; please apply your changes to the latest version and try again' % p[5])
                stamp(o, cur["metadata"]["uid"]); objs[(p[3], p[5])] = o
            self.send(200, o)
        def do_POST(self):
            p, o = self.parts(), self.body()
            with lock:
                k = (p[3], o["metadata"]["name"])
                if k in objs: return self.fail(409, "AlreadyExists", 'configmaps "%s" already exists' % k[1])
                o["metadata"]["namespace"] = p[3]; stamp(o); objs[k] = o
            self.send(201, o)
    s = ThreadingHTTPServer((a.host or "127.0.0.1", 0), H)
    open(a.port_file + ".tmp", "w").write(str(s.server_address[1])); os.replace(a.port_file + ".tmp", a.port_file)
    signal.signal(signal.SIGTERM, lambda *x: threading.Thread(target=s.shutdown).start())
    s.serve_forever()
''')

REAL_KUBEAPI = os.path.exists(KUBEAPI)
# (SANDBOX_SHARED_MOTO and SANDBOX_SHARED_EKSCTL, the test run's shared servers, are not a
# sandbox's settings: kept)
_BASE_ENV = {k: v for k, v in os.environ.items()
             if (not k.startswith(("AWS_", "SANDBOX_", "KUBE")) or k in ("SANDBOX_SHARED_MOTO", "SANDBOX_SHARED_EKSCTL"))
             and k not in ("GITOPS_IAM_SANDBOX", "HARNESS_API_KEY")}


class SandboxTestCase(unittest.TestCase):
    maxDiff = None

    def start_sandbox(self, **settings):
        """A fresh sandbox; SETTINGS are `sandbox start`'s (SANDBOX_IAM_PROPAGATION_DELAY="0")."""
        d = tempfile.mkdtemp(prefix="gitops-iam-sbx-")
        self.addCleanup(shutil.rmtree, d, True)
        self.addCleanup(subprocess.run, [SANDBOX, "stop", d], capture_output=True, timeout=60)
        r = subprocess.run([SANDBOX, "start", d], capture_output=True, text=True, timeout=90,
                           env=dict(_BASE_ENV, **settings))
        self.assertEqual(r.returncode, 0, "sandbox start failed:\n%s\n%s" % (r.stdout, r.stderr))
        out = subprocess.run(["bash", "-c", 'source "$1" && env -0', "_", os.path.join(d, "env.sh")],
                             capture_output=True, env=_BASE_ENV, timeout=30, check=True).stdout
        env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
        if not REAL_KUBEAPI:
            stub = os.path.join(d, "kubeapi_stub.py")
            with open(stub, "w") as f:
                f.write(STUB_KUBEAPI)
            env["SANDBOX_KUBEAPI"] = stub
        return d, env

    def run_tool(self, env, *argv, extra=None, timeout=120, check=None):
        e = dict(env)
        e.update(extra or {})
        r = subprocess.run(list(argv), capture_output=True, text=True, env=e, timeout=timeout)
        if check is not None:
            self.assertEqual(r.returncode, check, "%s -> %d\nstdout:\n%s\nstderr:\n%s"
                             % (sandboxlib.shell_join(argv), r.returncode, r.stdout, r.stderr))
        return r

    def aws_json(self, env, *argv, extra=None):
        r = self.run_tool(env, "aws", *argv, "--output", "json", extra=extra, check=0)
        return json.loads(r.stdout)

    def create_cluster(self, env, name, *more, extra=None):
        return self.run_tool(env, "eksctl", "create", "cluster", "--name", name, *R, *more, extra=extra, check=0)


class TestStartStop(SandboxTestCase):
    def test_start_writes_env_and_stop_leaves_no_process(self):
        d1, env1 = self.start_sandbox()
        d2, env2 = self.start_sandbox()  # two sandboxes at once: no shared port or file
        self.assertNotEqual(env1["AWS_ENDPOINT_URL"], env2["AWS_ENDPOINT_URL"])
        self.assertNotEqual(env1["SANDBOX_HARNESS_URL"], env2["SANDBOX_HARNESS_URL"])
        env = env1
        self.assertEqual(env["GITOPS_IAM_SANDBOX"], d1)
        self.assertTrue(env["PATH"].startswith(os.path.join(HERE, "bin") + os.pathsep))
        self.assertRegex(env["AWS_ENDPOINT_URL"], r"^http://127\.0\.0\.1:\d+$")
        self.assertEqual(env["AWS_ACCESS_KEY_ID"], "testing")
        self.assertEqual(env["AWS_SECRET_ACCESS_KEY"], "testing")
        self.assertEqual(env["AWS_DEFAULT_REGION"], "us-east-1")
        self.assertEqual(env["AWS_CONFIG_FILE"], os.path.join(d1, "aws-config"))
        self.assertEqual(env["AWS_SHARED_CREDENTIALS_FILE"], os.path.join(d1, "credentials"))
        self.assertEqual(env["KUBECONFIG"], os.path.join(d1, "kubeconfig"))
        self.assertEqual(env["HARNESS_API_KEY"], env["SANDBOX_HARNESS_API_KEY"])
        self.assertGreaterEqual(len(env["SANDBOX_HARNESS_API_KEY"]), 20)
        self.assertTrue(os.path.isabs(env["SANDBOX_REAL_AWS"]) and os.path.isabs(env["SANDBOX_REAL_KUBECTL"]))
        self.assertNotIn(os.path.join(HERE, "bin"), env["SANDBOX_REAL_KUBECTL"])
        with open(env["AWS_CONFIG_FILE"]) as f:
            cfg = f.read()
        self.assertIn("[profile testing]", cfg)
        self.assertIn("role_arn = arn:aws:iam::222222222222:role/sandbox-cross-account", cfg)
        self.assertIn("credential_source = Environment", cfg)
        # the Harness stand-in answers
        with urllib.request.urlopen(env["SANDBOX_HARNESS_URL"] + "/_sandbox/clusters", timeout=5) as r:
            self.assertEqual(json.load(r)["clusters"], [])

        pids = sandboxlib.read_pids(d1)
        # the eksctl emulator's server is the test run's shared one when there is one
        shared_eksctl = _BASE_ENV.get("SANDBOX_SHARED_EKSCTL")
        own = [] if shared_eksctl else ["warm eksctl"]
        self.assertEqual([p[2] for p in pids], own + ["warm aws", "moto_server", "harness_api"])
        self.assertEqual(env["SANDBOX_WARM_AWS"], os.path.join(d1, "warm-aws.sock"))
        self.assertEqual(env["SANDBOX_WARM_EKSCTL"], shared_eksctl or os.path.join(d1, "warm-eksctl.sock"))
        self.assertTrue(all(sandboxlib.pid_alive(p, s) for p, s, _ in pids))
        # a second start on a running sandbox is refused
        r = subprocess.run([SANDBOX, "start", d1], capture_output=True, text=True, env=_BASE_ENV, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already running", r.stderr)

        r = subprocess.run([SANDBOX, "stop", d1], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(any(sandboxlib.pid_alive(p, s) for p, s, _ in pids))
        r = subprocess.run([SANDBOX, "stop", d1], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, "stop must be idempotent: " + r.stderr)
        # the other sandbox still runs; its default identity and the cross-account profile
        self.assertTrue(all(sandboxlib.pid_alive(p, s) for p, s, _ in sandboxlib.read_pids(d2)))
        self.assertEqual(self.aws_json(env2, "sts", "get-caller-identity")["Account"], MGMT)
        self.assertEqual(self.aws_json(env2, "--profile", "testing", "sts", "get-caller-identity")["Account"], TESTING)
        # both calls were served by the warm-start server (a cold one is logged in warm.log)
        with open(os.path.join(d2, "warm.log")) as f:
            self.assertNotIn("runs cold", f.read())
        log = sandboxlib.read_command_log(d2)
        self.assertEqual([(e["tool"], e["mutating"], e["line"]) for e in log], [
            ("aws", False, "aws sts get-caller-identity --output json"),
            ("aws", False, "aws --profile testing sts get-caller-identity --output json"),
        ])

    def test_start_ignores_the_callers_aws_settings(self):
        # a developer's AWS_PROFILE must reach neither moto nor the warm-start servers
        d = tempfile.mkdtemp(prefix="gitops-iam-sbx-")
        self.addCleanup(shutil.rmtree, d, True)
        self.addCleanup(subprocess.run, [SANDBOX, "stop", d], capture_output=True, timeout=60)
        env = dict(_BASE_ENV, AWS_PROFILE="no-such-profile", AWS_CONFIG_FILE=os.devnull)
        r = subprocess.run([SANDBOX, "start", d], capture_output=True, text=True, env=env, timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = subprocess.run(["bash", "-c", 'source "$1" && unset AWS_PROFILE && env -0', "_",
                              os.path.join(d, "env.sh")], capture_output=True, env=env, timeout=30, check=True).stdout
        sbx = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
        self.assertEqual(self.aws_json(sbx, "eks", "list-clusters", *R), {"clusters": []})
        r = self.run_tool(sbx, "eksctl", "get", "cluster", *R, check=0)
        self.assertIn("no clusters found", r.stdout + r.stderr)

    def test_start_fails_clearly_without_moto(self):
        d = tempfile.mkdtemp(prefix="gitops-iam-sbx-")
        self.addCleanup(shutil.rmtree, d, True)
        self.addCleanup(subprocess.run, [SANDBOX, "stop", d], capture_output=True, timeout=60)
        path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                               if not (os.path.exists(os.path.join(p, "moto_server"))))
        env = dict(_BASE_ENV, PATH=path)
        env.pop("PYENV_VERSION", None)
        r = subprocess.run([sys.executable, SANDBOX, "start", d], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn("moto_server not found", r.stderr)

    def test_wrappers_refuse_to_run_outside_a_sandbox(self):
        for tool in ("aws", "kubectl", "eksctl"):
            r = subprocess.run([os.path.join(HERE, "bin", tool), "version"], capture_output=True, text=True,
                               env=_BASE_ENV, timeout=60)
            self.assertEqual(r.returncode, 1, tool)
            self.assertIn("GITOPS_IAM_SANDBOX is not set", r.stderr, tool)


class TestAwsAndEksctl(SandboxTestCase):
    def test_create_cluster_refuses_names_as_eksctl_does(self):
        # eksctl pkg/ctl/create/cluster.go: IsInvalidNameArg, then ErrInvalidName's message.
        d, env = self.start_sandbox()
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "my_cluster", *R, check=1)
        self.assertEqual(r.stderr, "Error: validation for my_cluster failed, name must satisfy regular "
                                   "expression pattern: [a-zA-Z][-a-zA-Z0-9]*\n")
        # A leading digit passes eksctl's check and EKS's rule.
        self.run_tool(env, "eksctl", "create", "cluster", "--name", "2nd", "--dry-run", *R, check=0)
        self.assertEqual(os.listdir(os.path.join(d, "clusters")) if os.path.isdir(os.path.join(d, "clusters"))
                         else [], [])

    def test_create_cluster_with_oidc_kubeconfig_and_duplicate(self):
        d, env = self.start_sandbox()
        kc = os.path.join(d, "mgmt.kubeconfig")
        r = self.create_cluster(env, "management", "--with-oidc", "--kubeconfig", kc,
                                "--set-kubeconfig-context=false")
        self.assertRegex(r.stdout, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[ℹ\]  eksctl version 0\.230\.0\n")
        self.assertIn('[✔]  EKS cluster "management" in "us-east-1" region is ready', r.stdout)

        cluster = self.aws_json(env, "eks", "describe-cluster", "--name", "management", *R)["cluster"]
        self.assertEqual(cluster["status"], "ACTIVE")
        issuer = cluster["identity"]["oidc"]["issuer"]
        self.assertRegex(issuer, r"^https://oidc\.eks\.us-east-1\.amazonaws\.com/id/[0-9A-F]{32}$")
        self.assertTrue(cluster["endpoint"].startswith("https://"))
        self.assertIn(b"-----BEGIN CERTIFICATE-----",
                      __import__("base64").b64decode(cluster["certificateAuthority"]["data"]))
        providers = self.aws_json(env, "iam", "list-open-id-connect-providers", *R)["OpenIDConnectProviderList"]
        host_path = issuer[len("https://"):]
        self.assertEqual([p["Arn"] for p in providers], ["arn:aws:iam::%s:oidc-provider/%s" % (MGMT, host_path)])
        prov = self.aws_json(env, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn",
                             providers[0]["Arn"], *R)
        self.assertEqual(prov["ClientIDList"], ["sts.amazonaws.com"])

        # kubeconfig works with the real kubectl; current-context left alone
        with open(kc) as f:
            text = f.read()
        self.assertIn("current-context: ''", text)
        self.assertIn("name: moto@management.us-east-1.eksctl.io", text)
        r = self.run_tool(env, "kubectl", "--kubeconfig", kc, "--context", "moto@management.us-east-1.eksctl.io",
                          "get", "cm", "aws-auth", "-n", "kube-system", "-o", "json", check=0)
        cm = json.loads(r.stdout)
        self.assertRegex(cm["data"]["mapRoles"],
                         r"^- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: "
                         r"arn:aws:iam::123456789012:role/eksctl-management-nodegroup-ng-[0-9a-f]+-"
                         r"NodeInstanceRole-[0-9A-Z]{12}\n  username: system:node:\{\{EC2PrivateDNSName\}\}\n$")
        with open(env["KUBECONFIG"]) as f:
            self.assertNotIn("management", f.read(), "the default kubeconfig must not be touched")

        # the kube emulator is recorded for `sandbox stop`
        rec = sandboxlib.read_json(sandboxlib.cluster_record_path(d, MGMT, "us-east-1", "management"))
        self.assertEqual(rec["state"], "active")
        self.assertIn((rec["kube_pid"], rec["kube_start"]), [(p, s) for p, s, _ in sandboxlib.read_pids(d)])

        # a second create fails like eksctl (existing CloudFormation stack)
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "management", *R, check=1)
        self.assertRegex(r.stderr, r'^Error: creating CloudFormation stack "eksctl-management-cluster": operation '
                                   r'error CloudFormation: CreateStack, https response error StatusCode: 400, '
                                   r'RequestID: [-0-9a-f]+, AlreadyExistsException: Stack '
                                   r'\[eksctl-management-cluster\] already exists\n$')

        # get cluster -o json: eksctl's PascalCase array; missing cluster
        r = self.run_tool(env, "eksctl", "get", "cluster", "--name", "management", *R, "-o", "json", check=0)
        got = json.loads(r.stdout)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]["Name"], "management")
        self.assertEqual(got[0]["Identity"]["Oidc"]["Issuer"], issuer)
        self.assertEqual(got[0]["CertificateAuthority"]["Data"], cluster["certificateAuthority"]["data"])
        self.assertEqual(got[0]["Status"], "ACTIVE")
        r = self.run_tool(env, "eksctl", "get", "cluster", "--name", "nope", *R, check=1)
        self.assertIn("ResourceNotFoundException: No cluster found for name: nope.", r.stderr)
        self.assertTrue(r.stderr.startswith('Error: unable to describe control plane "nope": operation error EKS'))

        # the same name in the other account is another cluster
        self.create_cluster(env, "management", "--profile", "testing", "--kubeconfig", os.path.join(d, "t.kc"))
        other = self.aws_json(env, "--profile", "testing", "eks", "describe-cluster", "--name", "management", *R)
        self.assertTrue(other["cluster"]["arn"].startswith("arn:aws:eks:us-east-1:222222222222:cluster/"))
        self.assertNotEqual(other["cluster"]["identity"]["oidc"]["issuer"], issuer)

        # delete: kube emulator stopped, OIDC provider removed; second delete fails
        r = self.run_tool(env, "eksctl", "delete", "cluster", "--name", "management", "--wait", *R, check=0)
        self.assertIn("all cluster resources were deleted", r.stdout)
        self.assertFalse(sandboxlib.pid_alive(rec["kube_pid"], rec["kube_start"]))
        self.assertEqual(self.aws_json(env, "iam", "list-open-id-connect-providers", *R)["OpenIDConnectProviderList"], [])
        r = self.run_tool(env, "eksctl", "delete", "cluster", "--name", "management", *R, check=1)
        self.assertIn("ResourceNotFoundException", r.stderr)

    def stacks(self, env):
        return sorted(st["StackName"] for st in self.aws_json(env, "cloudformation", "describe-stacks", *R)["Stacks"])

    @unittest.skipUnless(REAL_KUBEAPI, "nodes need tests/sandbox/kubeapi.py")
    def test_stacks_nodegroups_nodes_and_interrupted_creation(self):
        d, env = self.start_sandbox()
        kc = os.path.join(d, "a.kc")
        self.create_cluster(env, "a", "--kubeconfig", kc)
        ng = self.aws_json(env, "eks", "list-nodegroups", "--cluster-name", "a", *R)["nodegroups"]
        self.assertEqual(len(ng), 1)
        self.assertRegex(ng[0], r"^ng-[0-9a-f]{8}$")
        self.assertEqual(self.stacks(env), ["eksctl-a-cluster", "eksctl-a-nodegroup-" + ng[0]])
        desc = self.aws_json(env, "eks", "describe-nodegroup", "--cluster-name", "a", "--nodegroup-name", ng[0], *R)
        self.assertEqual((desc["nodegroup"]["status"], desc["nodegroup"]["scalingConfig"]["desiredSize"],
                          desc["nodegroup"]["instanceTypes"]), ("ACTIVE", 2, ["m5.large"]))
        nodes = json.loads(self.run_tool(env, "kubectl", "--kubeconfig", kc, "get", "nodes", "-o", "json",
                                         check=0).stdout)["items"]
        self.assertEqual(len(nodes), 2)
        for n in nodes:
            self.assertEqual(n["metadata"]["labels"]["eks.amazonaws.com/nodegroup"], ng[0])
            self.assertIn({"type": "Ready", "status": "True"},
                          [{"type": c["type"], "status": c["status"]} for c in n["status"]["conditions"]])

        # the nodegroup stack "fails": an ACTIVE cluster without nodes; create nodegroup completes it
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "b", *R, "--kubeconfig", kc,
                          extra={"SANDBOX_CREATE_STOP": "after-control-plane"}, check=1)
        self.assertIn('ResourceNotReady: failed waiting for successful resource state', r.stdout)
        self.assertTrue(r.stderr.endswith('Error: failed to create cluster "b"\n'), r.stderr)
        self.assertEqual(self.aws_json(env, "eks", "describe-cluster", "--name", "b", *R)["cluster"]["status"], "ACTIVE")
        self.assertEqual(self.aws_json(env, "eks", "list-nodegroups", "--cluster-name", "b", *R)["nodegroups"], [])
        self.assertIn("eksctl-b-cluster", self.stacks(env))
        self.run_tool(env, "eksctl", "create", "nodegroup", "--cluster", "b", *R, check=0)
        made = self.aws_json(env, "eks", "list-nodegroups", "--cluster-name", "b", *R)["nodegroups"]
        self.assertEqual(len(made), 1)
        # named afresh (eksctl's names.ForNodeGroup), not as the cut-off creation planned it: a
        # run still creating the cluster makes its own nodegroup beside it, never the same stack
        planned = sandboxlib.read_json(sandboxlib.cluster_record_path(d, MGMT, "us-east-1", "b"))["nodegroup"]
        self.assertRegex(made[0], r"^ng-[0-9a-f]{8}$")
        self.assertNotEqual(made[0], planned)

        # the control-plane stack "rolls back": a stack and no cluster; create again: AlreadyExists
        self.run_tool(env, "eksctl", "create", "cluster", "--name", "c", *R, "--kubeconfig", kc,
                      extra={"SANDBOX_CREATE_STOP": "control-plane"}, check=1)
        self.run_tool(env, "aws", "eks", "describe-cluster", "--name", "c", *R, check=255)
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "c", *R, check=1)
        self.assertIn("AlreadyExistsException: Stack [eksctl-c-cluster] already exists", r.stderr)
        # delete cluster removes a stack without a cluster, and nodegroups before the cluster
        for name in ("c", "b", "a"):
            self.run_tool(env, "eksctl", "delete", "cluster", "--name", name, "--wait", *R, check=0)
        self.assertEqual(self.stacks(env), [])
        # the nodegroups of a missing cluster: EKS's ResourceNotFoundException at once (stock moto
        # fails with HTTP 500, which the aws CLI retries for seconds)
        started = time.monotonic()
        r = self.run_tool(env, "aws", "eks", "list-nodegroups", "--cluster-name", "a", *R, check=255)
        self.assertIn("An error occurred (ResourceNotFoundException) when calling the ListNodegroups operation: "
                      "No cluster found for name: a.", r.stderr)
        self.assertLess(time.monotonic() - started, 5, "the aws CLI retried: not a 4xx answer")

    def test_status_tag_shows_failed_and_eksctl_refuses(self):
        d, env = self.start_sandbox()
        self.create_cluster(env, "a", "--without-nodegroup")
        arn = self.aws_json(env, "eks", "describe-cluster", "--name", "a", *R)["cluster"]["arn"]
        self.run_tool(env, "aws", "eks", "tag-resource", "--resource-arn", arn, "--tags",
                      "sandbox.gitops-iam/status=FAILED", *R, check=0)
        self.assertEqual(self.aws_json(env, "eks", "describe-cluster", "--name", "a", *R)["cluster"]["status"], "FAILED")
        r = self.run_tool(env, "eksctl", "get", "iamidentitymapping", "--cluster", "a", *R, check=1)
        self.assertEqual(r.stderr, 'Error: cannot perform Kubernetes API operations on cluster "a" in "us-east-1" '
                                   'region due to status "FAILED"\n')
        r = self.run_tool(env, "aws", "eks", "wait", "cluster-active", "--name", "a", *R, check=255)
        self.assertIn("Waiter ClusterActive failed", r.stderr)

    def test_iam_identity_mappings_and_oidc_association(self):
        d, env = self.start_sandbox()
        self.create_cluster(env, "testing")
        arn = "arn:aws:iam::%s:role/Deployer" % MGMT
        create = ["eksctl", "create", "iamidentitymapping", "--cluster", "testing", *R, "--arn", arn,
                  "--username", "deployer", "--group", "system:masters"]

        def mappings():
            r = self.run_tool(env, "eksctl", "get", "iamidentitymapping", "--cluster", "testing", *R, "-o", "json",
                              check=0)
            return [m for m in json.loads(r.stdout) if m.get("rolearn") == arn]

        self.run_tool(env, *create, "--no-duplicate-arns", check=0)
        r = self.run_tool(env, *create, "--no-duplicate-arns", check=0)
        self.assertIn("found existing mapping that matches the one being created, skipping.", r.stdout)
        self.assertEqual(mappings(), [{"groups": ["system:masters"], "rolearn": arn, "username": "deployer"}])
        # same ARN, other username: refused with --no-duplicate-arns
        r = self.run_tool(env, *create[:-4], "--username", "other", "--group", "system:masters",
                          "--no-duplicate-arns", check=1)
        self.assertEqual(r.stderr, 'Error: found existing mapping with the same arn "%s" and shadowing is '
                                   'disabled\n' % arn)
        # without the flag the tutorial's command appends a duplicate
        r = self.run_tool(env, *create, check=0)
        self.assertIn("which will be shadowed by your new mapping", r.stdout)
        self.assertEqual(len(mappings()), 2)
        # the ConfigMap text is what eksctl writes
        r = self.run_tool(env, "kubectl", "get", "cm", "aws-auth", "-n", "kube-system", "-o",
                          "jsonpath={.data.mapRoles}", check=0)
        self.assertTrue(r.stdout.endswith("- groups:\n  - system:masters\n  rolearn: %s\n  username: deployer\n" % arn),
                        r.stdout)
        # delete without --all removes one, --all the rest, again --all is a no-op
        r = self.run_tool(env, "eksctl", "delete", "iamidentitymapping", "--cluster", "testing", *R, "--arn", arn,
                          check=0)
        self.assertIn("there are 1 mappings left with same arn", r.stdout)
        self.run_tool(env, "eksctl", "delete", "iamidentitymapping", "--cluster", "testing", *R, "--arn", arn,
                      "--all", check=0)
        self.assertEqual(mappings(), [])
        self.run_tool(env, "eksctl", "delete", "iamidentitymapping", "--cluster", "testing", *R, "--arn", arn,
                      "--all", check=0)
        r = self.run_tool(env, "eksctl", "delete", "iamidentitymapping", "--cluster", "testing", *R, "--arn", arn,
                          check=1)
        self.assertEqual(r.stderr, 'Error: instance identity ARN "%s" not found in auth ConfigMap\n' % arn)
        # node mapping untouched; a role ARN with a path is refused
        r = self.run_tool(env, "eksctl", "get", "iamidentitymapping", "--cluster", "testing", *R, "-o", "json", check=0)
        self.assertEqual([m["username"] for m in json.loads(r.stdout)], ["system:node:{{EC2PrivateDNSName}}"])
        r = self.run_tool(env, *create[:8], "arn:aws:iam::%s:role/team/Deployer" % MGMT, "--group", "g", check=1)
        self.assertIn("has a path", r.stderr)
        # unknown cluster
        r = self.run_tool(env, "eksctl", "get", "iamidentitymapping", "--cluster", "nope", *R, check=1)
        self.assertIn("ResourceNotFoundException: No cluster found for name: nope.", r.stderr)

        # utils associate-iam-oidc-provider: plan (read), then --approve (mutating), idempotent
        base = ["eksctl", "utils", "associate-iam-oidc-provider", "--cluster", "testing", *R]
        r = self.run_tool(env, *base, check=0)
        self.assertIn('(plan) would create IAM Open ID Connect provider for cluster "testing" in "us-east-1"', r.stdout)
        self.assertIn("no changes were applied, run again with '--approve' to apply the changes", r.stdout)
        r = self.run_tool(env, *base, "--approve", check=0)
        self.assertIn('created IAM Open ID Connect provider for cluster "testing"', r.stdout)
        r = self.run_tool(env, *base, "--approve", check=0)
        self.assertIn("IAM Open ID Connect provider is already associated with cluster", r.stdout)
        self.assertEqual(len(self.aws_json(env, "iam", "list-open-id-connect-providers", *R)["OpenIDConnectProviderList"]), 1)
        kinds = [(e["mutating"], e["line"].split(" --region")[0]) for e in sandboxlib.read_command_log(d)
                 if e["line"].startswith("eksctl utils")]
        self.assertEqual(kinds, [
            (False, "eksctl utils associate-iam-oidc-provider --cluster testing"),
            (True, "eksctl utils associate-iam-oidc-provider --cluster testing"),
            (True, "eksctl utils associate-iam-oidc-provider --cluster testing"),
        ])


# Words a command log must carry unchanged: quotes, backslashes, control characters, unicode.
AWKWARD = ["-p", '{"a": 1}', "it's", "", "a\nb\\", "t\tr\r", "\\u0041 \\\"", "\x01\x1f\x7f\b\f",
           "é ü 日本 😀", "x=y", "$HOME `id`"]


class TestCommandLog(unittest.TestCase):
    """The two writers (wrapperlib.sh, sandboxlib.record_command) and the Python reader, no sandbox."""

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="gitops-iam-cmdlog-")
        self.addCleanup(shutil.rmtree, self.d, True)

    def bash(self, script, *args, **env):
        return subprocess.run(["bash", "-c", 'source "$0"; SB_TOOL=kubectl; ' + script,
                               os.path.join(HERE, "wrapperlib.sh"), *args], capture_output=True, check=True,
                              env=dict(_BASE_ENV, GITOPS_IAM_SANDBOX=self.d, **env), timeout=30).stdout

    def python(self, mutating, argv, **env):
        saved = {k: os.environ.get(k) for k in ["GITOPS_IAM_SANDBOX", "SANDBOX_FAIL_NTH", "SANDBOX_FAIL_MATCH"]}
        os.environ.update(GITOPS_IAM_SANDBOX=self.d, **env)
        try:
            return sandboxlib.record_command("kubectl", mutating, argv)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def log_bytes(self):
        with open(os.path.join(self.d, "commands.log"), "rb") as f:
            return f.read()

    def test_both_writers_write_identical_json_lines_the_reader_reads_back(self):
        self.bash('sb_record mutating "$@"; sb_record read "$@"', *AWKWARD)
        self.python(True, AWKWARD)
        self.python(False, AWKWARD)
        lines = self.log_bytes().decode().splitlines(keepends=True)
        self.assertEqual(len(lines), 4)
        self.assertEqual(lines[:2], lines[2:], "bash and Python write different lines")
        log = sandboxlib.read_command_log(self.d)
        self.assertEqual([(e["argv"], e["tool"], e["mutating"], e["injected"]) for e in log],
                         [(["kubectl", *AWKWARD], "kubectl", m, False) for m in (True, False)] * 2)
        self.assertEqual(log[0]["line"], sandboxlib.shell_join(["kubectl", *AWKWARD]))

    def test_bash_quotes_as_python_for_fail_match(self):
        got = self.bash('for w in "$@"; do sb_quote "$w"; printf "%s\\0" "$REPLY"; done', *AWKWARD)
        self.assertEqual(got.decode().split("\0")[:-1], [sandboxlib.shell_quote(w) for w in AWKWARD])

    def test_both_writers_inject_alike(self):
        # FAIL_MATCH sees the shell-quoted line; FAIL_NTH counts mutating commands of both writers
        match = {"SANDBOX_FAIL_MATCH": r"'it'\"'\"'s' ''"}
        self.bash('sb_record mutating "$@"; sb_record read "$@"', *AWKWARD, **match)
        self.assertTrue(self.python(True, AWKWARD, **match))
        self.assertFalse(self.python(True, ["get", "x"], **match))
        self.bash('sb_record mutating x', SANDBOX_FAIL_NTH="4")
        self.assertTrue(self.python(True, ["y"], SANDBOX_FAIL_NTH="5"))
        self.assertEqual([e["injected"] for e in sandboxlib.read_command_log(self.d)],
                         [True, False, True, False, True, True])
        with open(os.path.join(self.d, "mutating-count")) as f:
            self.assertEqual(f.read(), "5\n")

    def test_reader_refuses_what_is_not_an_entry(self):
        with open(os.path.join(self.d, "commands.log"), "w") as f:
            f.write("kubectl\tread\tkubectl get ns\n")
        with self.assertRaises(ValueError):
            sandboxlib.read_command_log(self.d)


class TestInjection(SandboxTestCase):
    def test_fail_nth_counts_mutating_commands_of_all_tools(self):
        d, env = self.start_sandbox()
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
            "Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
        extra = {"SANDBOX_FAIL_NTH": "2"}
        self.run_tool(env, "aws", "iam", "create-role", "--role-name", "ArgoCD", "--assume-role-policy-document",
                      trust, *R, extra=extra, check=0)                                          # mutating #1
        self.run_tool(env, "aws", "iam", "get-role", "--role-name", "ArgoCD", *R, extra=extra, check=0)  # read
        r = self.run_tool(env, "kubectl", "create", "namespace", "iam", extra=extra, check=1)      # mutating #2
        self.assertEqual(r.stderr, "Error from server (InternalError): injected fault (sandbox)\n")
        r = self.run_tool(env, "eksctl", "utils", "associate-iam-oidc-provider", "--cluster", "c", "--approve", *R,
                          extra=extra, check=1)                                                     # mutating #3
        self.assertIn("ResourceNotFoundException", r.stderr)  # it ran (no such cluster), not injected
        log = sandboxlib.read_command_log(d)
        self.assertEqual([(e["tool"], e["mutating"], e["injected"]) for e in log], [
            ("aws", True, False), ("aws", False, False), ("kubectl", True, True),
            ("eksctl", True, False)])
        with open(os.path.join(d, "commands.log")) as f:
            self.assertIn('{"argv":["kubectl","create","namespace","iam"],"mutating":true,"injected":true}\n',
                          f.read())
        with open(os.path.join(d, "mutating-count")) as f:
            self.assertEqual(f.read().strip(), "3")
        subprocess.run([SANDBOX, "reset-count", d], check=True, timeout=30)
        with open(os.path.join(d, "mutating-count")) as f:
            self.assertEqual(f.read().strip(), "0")

        # concurrent callers: the counter and the log stay consistent, exactly one Nth command fails
        e = dict(env, SANDBOX_FAIL_NTH="7")
        procs = [subprocess.Popen(["kubectl", "--server", "http://127.0.0.1:9", "--request-timeout", "2s", "create",
                                   "namespace", "ns%d" % i], env=e, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for i in range(16)]
        errs = [p.communicate(timeout=60)[1] for p in procs]
        self.assertEqual(sum("injected fault (sandbox)" in err for err in errs), 1)
        log = sandboxlib.read_command_log(d)[4:]
        self.assertEqual(len(log), 16)
        self.assertEqual(sum(x["injected"] for x in log), 1)
        with open(os.path.join(d, "mutating-count")) as f:
            self.assertEqual(f.read().strip(), "16")

    def test_fail_match_looks_like_each_real_tool(self):
        d, env = self.start_sandbox()
        extra = {"SANDBOX_FAIL_MATCH": r"open-id-connect|create cluster|annotate"}
        r = self.run_tool(env, "aws", "iam", "create-open-id-connect-provider", "--url", "https://x.example",
                          "--client-id-list", "sts.amazonaws.com", *R, extra=extra, check=255)
        self.assertEqual(r.stderr, "\nAn error occurred (ServiceFailure) when calling the CreateOpenIDConnectProvider "
                                   "operation: injected fault (sandbox)\n")
        r = self.run_tool(env, "aws", "iam", "list-open-id-connect-providers", *R, extra=extra, check=0)  # read: runs
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "m", *R, extra=extra, check=1)
        self.assertEqual((r.stdout, r.stderr), ("", "Error: injected fault (sandbox)\n"))
        r = self.run_tool(env, "kubectl", "-n", "iam", "annotate", "sa", "x", "a=b", extra=extra, check=1)
        self.assertEqual(r.stderr, "Error from server (InternalError): injected fault (sandbox)\n")
        r = self.run_tool(env, "aws", "eks", "list-clusters", *R, "--output", "json", check=0)
        self.assertEqual(json.loads(r.stdout)["clusters"], [], "the injected create must not create anything")
        injected = [e["line"] for e in sandboxlib.read_command_log(d) if e["injected"]]
        self.assertEqual(injected, [
            "aws iam create-open-id-connect-provider --url https://x.example --client-id-list sts.amazonaws.com "
            "--region us-east-1",
            "eksctl create cluster --name m --region us-east-1",
            "kubectl -n iam annotate sa x a=b"])

    def test_log_quoting_and_eksctl_cli_errors(self):
        d, env = self.start_sandbox()
        doc = '{\n  "Version": "2012-10-17", "it\'s": "$HOME"\n}'
        cases = [["aws", "iam", "get-role", "--role-name", doc, *R],
                 ["kubectl", "get", "cm", doc, "--request-timeout", "1s", "--server", "http://127.0.0.1:9"],
                 ["eksctl", "get", "cluster", "--name", doc, *R]]
        for argv in cases:
            self.run_tool(env, *argv)
        log = sandboxlib.read_command_log(d)
        self.assertEqual([e["argv"] for e in log], cases)
        lines = [e["line"] for e in log]
        for line, argv in zip(lines, cases, strict=False):
            self.assertNotIn("\n", line)
            back = subprocess.run(["bash", "-c", 'printf "%s\\0" ' + line.split(" ", 1)[1]],
                                  capture_output=True, check=True).stdout.decode().split("\0")[:-1]
            self.assertEqual(back, argv[1:])

        # eksctl CLI errors look like cobra/pflag's
        r = self.run_tool(env, "eksctl", "get", "cluster", "--foo", *R, check=1)
        self.assertEqual(r.stderr, "Error: unknown flag: --foo\n")
        r = self.run_tool(env, "eksctl", "create", "widget", check=1)
        self.assertEqual(r.stderr, 'Error: unknown resource type "widget"\n')
        noregion = dict(env)
        noregion.pop("AWS_DEFAULT_REGION")
        r = self.run_tool(noregion, "eksctl", "get", "cluster", check=1)
        self.assertIn("--region must be set", r.stderr)
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "x", *R, "--set-kubeconfig-context=maybe",
                          check=1)
        self.assertIn('invalid argument "maybe" for "--set-kubeconfig-context" flag', r.stderr)
        r = self.run_tool(env, "eksctl", "version", check=0)
        self.assertEqual(r.stdout, "0.230.0\n")

    def test_a_create_that_meets_another_ones_lock_but_no_stack_does_not_answer_already_exists(self):
        # Another eksctl of this sandbox holds the creation lock but has made no stack (it is
        # between the lock and CreateStack, or gave up): CloudFormation's CreateStack would
        # succeed, so this create must not answer AlreadyExistsException; once the lock goes
        # without a stack, it creates the cluster itself.
        d, env = self.start_sandbox()
        rec_path = sandboxlib.cluster_record_path(d, MGMT, "us-east-1", "testing")
        open(rec_path, "w").close()
        second = subprocess.Popen(["eksctl", "create", "cluster", "--name", "testing", *R], env=env, cwd=d,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # long enough for the old emulator to have answered AlreadyExistsException at once
            try:
                second.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
            os.unlink(rec_path)
            _, err = second.communicate(timeout=120)
        finally:
            if second.poll() is None:
                second.kill()
                second.communicate()
        self.assertEqual(second.returncode, 0, err)
        self.assertNotIn("AlreadyExistsException", err)
        cl = self.aws_json(env, "eks", "describe-cluster", "--name", "testing", *R)["cluster"]
        self.assertEqual(cl["status"], "ACTIVE")

    def test_create_delay_and_concurrent_creates(self):
        d, env = self.start_sandbox()
        # long enough that the reads below fall inside it on a loaded machine
        delay = 6.0
        extra = {"SANDBOX_CREATE_DELAY": str(delay)}
        results = {}

        def create(name):
            results[name] = self.run_tool(env, "eksctl", "create", "cluster", "--name", name, *R, "--kubeconfig",
                                          os.path.join(d, name + ".kc"), extra=extra)

        threads = [threading.Thread(target=create, args=(n,)) for n in ("management", "testing")]
        for t in threads:
            t.start()
        # while creating: describe-cluster says CREATING and a second create of the same name fails
        rec_path = sandboxlib.cluster_record_path(d, MGMT, "us-east-1", "management")
        for _ in range(200):
            try:
                if sandboxlib.read_json(rec_path).get("control_plane_submitted"):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        r = self.run_tool(env, "aws", "eks", "describe-cluster", "--name", "management", *R, "--output", "json",
                          check=0)
        self.assertEqual(json.loads(r.stdout)["cluster"]["status"], "CREATING")
        # and its stack is still being created: CloudFormation completes it with the control plane
        stack_status = ["cloudformation", "describe-stacks", "--stack-name", "eksctl-management-cluster", *R,
                        "--query", "Stacks[0].StackStatus", "--output", "text"]
        r = self.run_tool(env, "aws", *stack_status, check=0)
        self.assertEqual(r.stdout.strip(), "CREATE_IN_PROGRESS")
        r = self.run_tool(env, "eksctl", "create", "cluster", "--name", "management", *R, check=1)
        self.assertIn("AlreadyExistsException", r.stderr)
        for t in threads:
            t.join()
        self.assertEqual(self.run_tool(env, "aws", *stack_status, check=0).stdout.strip(), "CREATE_COMPLETE")
        ready = {}
        for name in ("management", "testing"):
            self.assertEqual(results[name].returncode, 0, results[name].stderr)
            cl = self.aws_json(env, "eks", "describe-cluster", "--name", name, *R)["cluster"]
            self.assertEqual(cl["status"], "ACTIVE")
            ready[name] = float(cl["tags"]["sandbox.gitops-iam/ready-at"])
            stamps = re.findall(r"^(\S+ \S+) \[.\]  (deploying stack \"eksctl-\S+-cluster\"|waiting for the control plane)",
                                results[name].stdout, re.M)
            t0, t1 = (time.mktime(time.strptime(s[0], "%Y-%m-%d %H:%M:%S")) for s in stamps)
            self.assertGreaterEqual(t1 - t0, delay - 1, "SANDBOX_CREATE_DELAY not honoured")
        # both slept at the same time: their sleep windows overlap
        self.assertLess(abs(ready["management"] - ready["testing"]), delay)


class TestAccessEntries(SandboxTestCase):
    """EKS access entries (tests/sandbox/moto_eks_access.py) through the real aws CLI.

    One CLI call costs about 0.7 s of CPU, so independent calls run in parallel."""

    ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    NOT_FOUND = ("The specified principalArn could not be found. You can view your available access entries with "
                 "'list-access-entries'.")

    def parallel(self, *calls):
        """Run argument-less callables at once; return their results in order."""
        results, errors = [None] * len(calls), []

        def run(i, fn):
            try:
                results[i] = fn()
            except BaseException as e:  # re-raised in the test thread
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    def ok(self, env, *argv):
        return lambda: self.aws_json(env, *argv, *R)

    def fails(self, env, code, op, message, *argv):
        """A call that fails like the real CLI: exit 255 and
        `An error occurred (CODE) when calling the OP operation: MESSAGE` on stderr."""
        def call():
            r = self.run_tool(env, "aws", *argv, *R, check=255)
            self.assertEqual((r.stdout, r.stderr.strip()),
                             ("", "An error occurred (%s) when calling the %s operation: %s" % (code, op, message)))
        return call

    def test_access_entry_lifecycle_errors_and_accounts(self):
        # The API itself, on roles just made by eksctl: no propagation delay here
        # (TestIamPrincipals has the delay's own test).
        d, env = self.start_sandbox(SANDBOX_IAM_PROPAGATION_DELAY="0")
        testing = ("--profile", "testing")
        c = ("--cluster-name", "testing")
        # a cluster named "testing" in each account; its node role (made by eksctl) is the principal
        self.parallel(
            lambda: self.create_cluster(env, "testing", "--kubeconfig", os.path.join(d, "a.kc")),
            lambda: self.create_cluster(env, "testing", *testing, "--kubeconfig", os.path.join(d, "b.kc")))
        role, t_role = (sandboxlib.read_json(sandboxlib.cluster_record_path(d, acct, "us-east-1", "testing"))
                        ["node_role_arn"] for acct in (MGMT, TESTING))
        self.assertTrue(role.startswith("arn:aws:iam::%s:role/" % MGMT) and t_role.startswith(
            "arn:aws:iam::%s:role/" % TESTING))
        entry = c + ("--principal-arn", role)
        other = c + ("--principal-arn", "arn:aws:iam::%s:role/NoEntry" % MGMT)

        created, mode, t_created, *_ = self.parallel(
            self.ok(env, "eks", "create-access-entry", *entry, "--type", "STANDARD", "--username", "deployer",
                    "--kubernetes-groups", "gitops-deployers", "viewers"),
            self.ok(env, "eks", "describe-cluster", "--name", "testing", "--query", "cluster.accessConfig"),
            self.ok(env, *testing, "eks", "create-access-entry", *c, "--principal-arn", t_role),
            self.fails(env, "ResourceNotFoundException", "CreateAccessEntry", "No cluster found for name: nope.",
                       "eks", "create-access-entry", "--cluster-name", "nope", "--principal-arn", role),
            # (a principal of the other account: STANDARD entries may name one)
            self.fails(env, "InvalidParameterException", "CreateAccessEntry",
                       "The kubernetes group name system:masters is invalid, it cannot start with system:",
                       *testing, "eks", "create-access-entry", *c, "--principal-arn", role,
                       "--kubernetes-groups", "ok", "system:masters"),
            self.fails(env, "InvalidParameterException", "CreateAccessEntry",
                       "The specified principalArn is invalid: invalid principal.",
                       "eks", "create-access-entry", *c, "--principal-arn", "Deployer"),
            # a well-formed ARN of a role that does not exist (EKS checks IAM)
            self.fails(env, "InvalidParameterException", "CreateAccessEntry",
                       "The specified principalArn is invalid: invalid principal.",
                       "eks", "create-access-entry", *other),
            self.fails(env, "ResourceNotFoundException", "AssociateAccessPolicy", self.NOT_FOUND,
                       "eks", "associate-access-policy", *other, "--policy-arn", self.ADMIN,
                       "--access-scope", "type=cluster"),
            self.fails(env, "ResourceNotFoundException", "DeleteAccessEntry", self.NOT_FOUND,
                       "eks", "delete-access-entry", *other))
        self.assertEqual(mode, {"authenticationMode": "API_AND_CONFIG_MAP"})
        e = dict(created["accessEntry"])
        self.assertRegex(e.pop("accessEntryArn"),
                         r"^arn:aws:eks:us-east-1:%s:access-entry/testing/role/%s/%s/[0-9a-f]{8}-[0-9a-f]{4}-"
                         r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" % (MGMT, MGMT, re.escape(role.split("/")[-1])))
        self.assertIsInstance(e.pop("createdAt"), float)
        self.assertIsInstance(e.pop("modifiedAt"), float)
        self.assertEqual(e, {"clusterName": "testing", "principalArn": role, "type": "STANDARD",
                             "username": "deployer", "kubernetesGroups": ["gitops-deployers", "viewers"], "tags": {}})
        # defaults: type STANDARD, no groups, the role's assumed-role ARN with {{SessionName}} as username
        t = t_created["accessEntry"]
        self.assertEqual((t["type"], t["kubernetesGroups"], t["username"]), (
            "STANDARD", [], "arn:aws:sts::%s:assumed-role/%s/{{SessionName}}" % (TESTING, t_role.split("/")[-1])))
        self.assertTrue(t["accessEntryArn"].startswith("arn:aws:eks:us-east-1:%s:access-entry/testing/" % TESTING))

        described, listed, t_listed, assoc, assoc_ns, *_ = self.parallel(
            self.ok(env, "eks", "describe-access-entry", *entry),
            self.ok(env, "eks", "list-access-entries", *c),
            self.ok(env, *testing, "eks", "list-access-entries", *c),
            self.ok(env, "eks", "associate-access-policy", *entry, "--policy-arn", self.ADMIN,
                    "--access-scope", "type=cluster"),
            self.ok(env, "eks", "associate-access-policy", *entry, "--policy-arn", self.VIEW,
                    "--access-scope", "type=namespace,namespaces=a,b"),
            self.fails(env, "ResourceInUseException", "CreateAccessEntry",
                       "The specified access entry resource is already in use on this cluster.",
                       "eks", "create-access-entry", *entry),
            self.fails(env, "InvalidParameterException", "AssociateAccessPolicy",
                       "The specified policyArn is invalid: arn:aws:iam::aws:policy/AdministratorAccess",
                       "eks", "associate-access-policy", *entry, "--policy-arn",
                       "arn:aws:iam::aws:policy/AdministratorAccess", "--access-scope", "type=cluster"))
        self.assertEqual(described, created)
        # accounts are isolated: each sees only its own entry in its own "testing" cluster
        self.assertEqual(listed, {"accessEntries": [role]})
        self.assertEqual(t_listed, {"accessEntries": [t_role]})
        self.assertEqual((assoc["clusterName"], assoc["principalArn"]), ("testing", role))
        a = assoc["associatedAccessPolicy"]
        self.assertEqual((a["policyArn"], a["accessScope"]), (self.ADMIN, {"type": "cluster", "namespaces": []}))
        self.assertIsInstance(a["associatedAt"], float)
        self.assertIsInstance(a["modifiedAt"], float)
        self.assertEqual(assoc_ns["associatedAccessPolicy"]["accessScope"],
                         {"type": "namespace", "namespaces": ["a", "b"]})

        # deleting a cluster drops its access entries (the other account's cluster, deleted and recreated)
        self.parallel(
            lambda: self.run_tool(env, "aws", "eks", "disassociate-access-policy", *entry, "--policy-arn", self.VIEW,
                                  *R, check=0),
            lambda: (self.run_tool(env, "eksctl", "delete", "cluster", "--name", "testing", *testing, *R, check=0),
                     self.create_cluster(env, "testing", *testing, "--kubeconfig", os.path.join(d, "b.kc"))))
        policies, t_listed = self.parallel(
            self.ok(env, "eks", "list-associated-access-policies", *entry),
            self.ok(env, *testing, "eks", "list-access-entries", *c))
        self.assertEqual(t_listed, {"accessEntries": []}, "the recreated cluster must not inherit access entries")
        self.assertEqual((policies["clusterName"], policies["principalArn"]), ("testing", role))
        self.assertEqual(policies["associatedAccessPolicies"], [a])

        self.run_tool(env, "aws", "eks", "delete-access-entry", *entry, *R, check=0)
        self.fails(env, "ResourceNotFoundException", "DescribeAccessEntry", self.NOT_FOUND,
                   "eks", "describe-access-entry", *entry)()


    def test_authentication_mode_moves_one_step_forward_only(self):
        """EKS: CONFIG_MAP -> API_AND_CONFIG_MAP -> API, one step per update; access entries only
        with the API; the bare EKS API (not eksctl) defaults to CONFIG_MAP."""
        _, env = self.start_sandbox()
        bare = ("eks", "create-cluster", "--role-arn", "arn:aws:iam::%s:role/eks" % MGMT,
                "--resources-vpc-config", "subnetIds=subnet-1,subnet-2")

        def update(name, mode):
            return ("eks", "update-cluster-config", "--name", name, "--access-config", "authenticationMode=" + mode)

        def refused(name, current, mode):
            return self.fails(env, "InvalidParameterException", "UpdateClusterConfig",
                              "Unsupported authentication mode update from %s to %s" % (current, mode),
                              *update(name, mode))

        self.parallel(self.ok(env, *bare, "--name", "old"),
                      self.ok(env, *bare, "--name", "api", "--access-config", "authenticationMode=API"))
        mode, *_ = self.parallel(
            self.ok(env, "eks", "describe-cluster", "--name", "old", "--query", "cluster.accessConfig"),
            self.fails(env, "InvalidRequestException", "CreateAccessEntry",
                       "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform "
                       "this operation.", "eks", "create-access-entry", "--cluster-name", "old",
                       "--principal-arn", "arn:aws:iam::%s:role/eks" % MGMT),
            refused("old", "CONFIG_MAP", "API"),
            refused("api", "API", "API_AND_CONFIG_MAP"),
            refused("api", "API", "CONFIG_MAP"))
        self.assertEqual(mode, {"authenticationMode": "CONFIG_MAP"})

        u = self.ok(env, *update("old", "API_AND_CONFIG_MAP"))()["update"]
        update_id = u.pop("id")
        self.assertRegex(update_id, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.assertIsInstance(u.pop("createdAt"), float)
        self.assertEqual(u, {"status": "InProgress", "type": "AccessConfigUpdate", "errors": [],
                             "params": [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}]})
        described, mode, listed, *_ = self.parallel(
            self.ok(env, "eks", "describe-update", "--name", "old", "--update-id", update_id),
            self.ok(env, "eks", "describe-cluster", "--name", "old", "--query", "cluster.accessConfig"),
            self.ok(env, "eks", "list-access-entries", "--cluster-name", "old"),
            refused("old", "API_AND_CONFIG_MAP", "API_AND_CONFIG_MAP"),
            refused("old", "API_AND_CONFIG_MAP", "CONFIG_MAP"),
            self.fails(env, "ResourceNotFoundException", "DescribeUpdate", "No update found with id: nope",
                       "eks", "describe-update", "--name", "old", "--update-id", "nope"))
        self.assertEqual((described["update"]["id"], described["update"]["status"]), (update_id, "Successful"))
        self.assertEqual(mode, {"authenticationMode": "API_AND_CONFIG_MAP"})
        self.assertEqual(listed, {"accessEntries": []})
        # the second step, to API only, is allowed
        self.assertEqual(self.ok(env, *update("old", "API"))()["update"]["params"],
                         [{"type": "AuthenticationMode", "value": "API"}])

class TestIamPrincipals(SandboxTestCase):
    """IAM refuses a trust naming a principal that does not exist or was made moments ago
    (tests/sandbox/moto_iam_principals.py), and EKS a just-made access-entry principal."""

    def test_missing_and_new_principals_are_refused_until_propagated(self):
        delay = 10  # seconds: the four calls before the sleep must fit in it, even on a loaded machine
        d, env = self.start_sandbox(SANDBOX_IAM_PROPAGATION_DELAY=str(delay))
        self.addCleanup(shutil.rmtree, d + "-docs", True)
        os.makedirs(d + "-docs")

        def doc(name, principal):
            path = os.path.join(d + "-docs", name)
            with open(path, "w") as f:
                json.dump({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}, f)
            return "file://" + path

        service = doc("service.json", {"Service": "ec2.amazonaws.com"})
        agent = "arn:aws:iam::%s:role/ArgoCD" % MGMT
        trusts_agent = doc("agent.json", {"AWS": agent})
        refused = "An error occurred (MalformedPolicyDocument) when calling the %s operation: " \
                  "Invalid principal in policy: \"AWS\":\"%s\""

        def create(name, trust, *more, check=0):
            return self.run_tool(env, "aws", "iam", "create-role", "--role-name", name,
                                 "--assume-role-policy-document", trust, *more, *R, check=check)

        # missing: refused, whatever the account
        r = create("Deployer", trusts_agent, check=255)
        self.assertEqual(r.stderr.strip(), refused % ("CreateRole", agent))
        t0 = time.monotonic()
        create("ArgoCD", service)
        made = time.monotonic()  # IAM made it between t0 and now: it propagates by made + delay
        # just made: still refused, by CreateRole and UpdateAssumeRolePolicy alike
        r = create("Deployer", trusts_agent, check=255)
        self.assertEqual(r.stderr.strip(), refused % ("CreateRole", agent))
        create("Deployer", service)
        r = self.run_tool(env, "aws", "iam", "update-assume-role-policy", "--role-name", "Deployer",
                          "--policy-document", trusts_agent, *R, check=255)
        self.assertEqual(r.stderr.strip(), refused % ("UpdateAssumeRolePolicy", agent))
        self.assertLess(time.monotonic() - t0, delay, "the calls above took longer than the delay")
        # an existing name is EntityAlreadyExists first; the account and "*" always pass
        r = create("ArgoCD", trusts_agent, check=255)
        self.assertIn("(EntityAlreadyExists)", r.stderr)
        create("Root", doc("root.json", {"AWS": "arn:aws:iam::%s:root" % TESTING}))
        # propagated: accepted, also across accounts (the testing account trusts the agent role)
        time.sleep(max(0.0, delay - (time.monotonic() - made)) + 0.2)
        self.run_tool(env, "aws", "iam", "update-assume-role-policy", "--role-name", "Deployer",
                      "--policy-document", trusts_agent, *R, check=0)
        create("Deployer", trusts_agent, "--profile", "testing")


class TestHarness(SandboxTestCase):
    def call(self, env, method, path, body=None, key=None):
        req = urllib.request.Request(env["SANDBOX_HARNESS_URL"] + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              "x-api-key": env["SANDBOX_HARNESS_API_KEY"] if key is None else key})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_register_get_delete_cluster(self):
        d, env = self.start_sandbox()
        scope = "accountIdentifier=acc&orgIdentifier=default&projectIdentifier=proj"
        base = "/gitops/api/v1/agents/gitopsagent/clusters"
        body = {"upsert": True, "cluster": {
            "server": "https://ABC.gr7.us-east-1.eks.amazonaws.com", "name": "testing",
            "config": {"clusterConnectionType": "IRSA", "roleARN": "arn:aws:iam::222222222222:role/Deployer",
                       "awsClusterName": "testing", "tlsClientConfig": {"insecure": False, "caData": "Q0E="}}}}
        status, obj = self.call(env, "POST", base + "?" + scope + "&identifier=testing", body, key="wrong")
        self.assertEqual((status, obj), (401, {"status": "ERROR", "code": "INVALID_TOKEN",
                                               "message": "Token is not valid."}))
        status, obj = self.call(env, "POST", base + "?" + scope + "&identifier=testing", body)
        self.assertEqual(status, 200, obj)
        self.assertEqual((obj["identifier"], obj["agentIdentifier"], obj["accountIdentifier"]),
                         ("testing", "gitopsagent", "acc"))
        self.assertEqual(obj["cluster"]["config"]["roleARN"], "arn:aws:iam::222222222222:role/Deployer")
        status, got = self.call(env, "GET", base + "/testing?" + scope + "&routingId=acc")
        self.assertEqual((status, got["cluster"]["server"]), (200, body["cluster"]["server"]))
        # Go `omitempty` (harness-go-sdk's model): `insecure: false` is left out of answers
        self.assertEqual(got["cluster"]["config"]["tlsClientConfig"], {"caData": "Q0E="})
        self.assertNotIn("insecure", obj["cluster"]["config"]["tlsClientConfig"])
        self.assertEqual(self.call(env, "GET", base + "/other?" + scope), (200, {}))
        # strict validation, identifiers, agents
        bad = json.loads(json.dumps(body))
        del bad["cluster"]["config"]["roleARN"]
        status, obj = self.call(env, "POST", base + "?" + scope + "&identifier=testing", bad)
        self.assertEqual(status, 400)
        self.assertIn("roleARN", obj["message"])
        status, obj = self.call(env, "POST", base + "?" + scope + "&identifier=bad-id", body)
        self.assertEqual(status, 400)
        status, obj = self.call(env, "POST", "/gitops/api/v1/agents/nope/clusters?" + scope + "&identifier=x", body)
        # an unknown agent: a 404 without a not-found code (gRPC Unknown)
        self.assertEqual((status, obj["code"]), (404, 2))
        status, obj = self.call(env, "POST", "/gitops/api/v1/agents/account.gitopsagent/clusters?"
                                "accountIdentifier=acc&identifier=testing", body)
        self.assertEqual(status, 200, obj)
        # delete
        self.assertEqual(self.call(env, "DELETE", base + "/testing?" + scope + "&forceDelete=true"), (200, {}))
        status, obj = self.call(env, "DELETE", base + "/testing?" + scope + "&forceDelete=true")
        # a missing cluster: grpc-gateway's body with gRPC NotFound
        self.assertEqual((status, obj), (404, {"error": "cluster testing not found", "code": 5,
                                               "message": "cluster testing not found", "details": []}))
        with urllib.request.urlopen(env["SANDBOX_HARNESS_URL"] + "/_sandbox/clusters", timeout=5) as r:
            state = json.load(r)
        # routingId is recorded, not required
        self.assertEqual([r["query"].get("routingId") for r in state["requests"] if r["method"] == "GET"],
                         ["acc", None])
        self.assertEqual([c["agentIdentifier"] for c in state["clusters"]], ["account.gitopsagent"])
        self.assertEqual(state["request_count"], 10)
        with open(os.path.join(d, "harness.log")) as f:
            self.assertIn("POST /gitops/api/v1/agents/gitopsagent/clusters", f.read())


@unittest.skipUnless(REAL_KUBEAPI, "tests/sandbox/kubeapi.py is not there yet")
class TestAgentManifest(SandboxTestCase):
    def test_agent_yaml_applies_into_any_namespace(self):
        d, env = self.start_sandbox()
        self.create_cluster(env, "management")
        self.run_tool(env, "kubectl", "create", "namespace", "gitops", check=0)
        self.run_tool(env, "kubectl", "apply", "-n", "gitops", "-f", os.path.join(HERE, "agent.yaml"), check=0)
        r = self.run_tool(env, "kubectl", "get", "-n", "gitops", "deployment/gitops-agent",
                          "statefulset/argocd-application-controller", "sa/gitops-agent",
                          "sa/argocd-application-controller", "-o", "json", check=0)
        items = json.loads(r.stdout)["items"]
        self.assertEqual(len(items), 4)
        for item in items:
            self.assertEqual(item["metadata"]["namespace"], "gitops")
            spec = item.get("spec", {}).get("template", {}).get("spec", {})
            self.assertNotIn("fsGroup", spec.get("securityContext") or {})


class TestAgentManifestText(unittest.TestCase):
    def test_no_namespace_no_fsgroup(self):
        with open(os.path.join(HERE, "agent.yaml")) as f:
            text = f.read()
        self.assertNotRegex(text, r"(?m)^\s*namespace:")
        self.assertNotIn("fsGroup", text)
        for needle in ("kind: Deployment", "kind: StatefulSet", "serviceAccountName: gitops-agent",
                       "serviceAccountName: argocd-application-controller", "serviceName: argocd-application-controller",
                       "image: harness/gitops-agent:", "image: quay.io/argoproj/argocd:"):
            self.assertIn(needle, text)
        self.assertEqual(len(re.findall(r"(?m)^kind: ServiceAccount$", text)), 2)


if __name__ == "__main__":
    unittest.main()
