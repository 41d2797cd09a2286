"""Tests for tests/sandbox/kubeapi.py, driven by the real kubectl.

Run from the repository root:  python3 -m unittest tests/sandbox/test_kubeapi.py
Every test starts its own emulator (CLI contract: --port-file/--rollout-delay/--seed/--log) and uses
its own kubeconfig and kubectl --cache-dir in a temporary directory.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
KUBEAPI = os.path.join(HERE, "kubeapi.py")
KUBECTL = shutil.which("kubectl")

ROLE_ARN = "arn:aws:iam::123456789012:role/ArgoCD"

WORKLOADS_YAML = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: gitops-agent
  namespace: iam
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: argocd-application-controller
  namespace: iam
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: gitops-agent
  namespace: iam
  labels: {app: gitops-agent}
spec:
  replicas: 1
  selector:
    matchLabels: {app: gitops-agent}
  template:
    metadata:
      labels: {app: gitops-agent}
    spec:
      serviceAccountName: gitops-agent
      containers:
      - name: agent
        image: harness/gitops-agent:IMAGE_TAG
        env:
        - {name: LOG_LEVEL, value: info}
        ports:
        - containerPort: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: argocd-application-controller
  namespace: iam
spec:
  serviceName: argocd-application-controller
  replicas: 1
  selector:
    matchLabels: {app: argocd-application-controller}
  template:
    metadata:
      labels: {app: argocd-application-controller}
    spec:
      serviceAccountName: argocd-application-controller
      containers:
      - name: controller
        image: quay.io/argoproj/argocd:v2.9.3
"""


def big_crd(size: int) -> dict:
    """A CRD whose JSON is about SIZE bytes (a long description, as in Argo CD's schemas)."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "applicationsets.argoproj.io",
                         "labels": {"app.kubernetes.io/part-of": "argocd"}},
            "spec": {"group": "argoproj.io", "scope": "Namespaced",
                     "names": {"kind": "ApplicationSet", "listKind": "ApplicationSetList",
                               "plural": "applicationsets", "singular": "applicationset",
                               "shortNames": ["appset", "appsets"]},
                     "versions": [{"name": "v1alpha1", "served": True, "storage": True,
                                   "subresources": {"status": {}},
                                   "schema": {"openAPIV3Schema": {
                                       "type": "object", "description": "x" * size,
                                       "x-kubernetes-preserve-unknown-fields": True}}}]}}


class Emulator:
    """One emulator process plus a private kubeconfig and kubectl cache dir."""

    def __init__(self, delay: float = 0.3, seed: list | None = None):
        self.dir = tempfile.mkdtemp(prefix="kubeapi-test-")
        self.port_file = os.path.join(self.dir, "port")
        self.log_file = os.path.join(self.dir, "kubeapi.log")
        self.cache_dir = os.path.join(self.dir, "kubectl-cache")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        cmd = [sys.executable, KUBEAPI, "--port-file", self.port_file, "--host", "127.0.0.1",
               "--rollout-delay", str(delay), "--log", self.log_file]
        if seed is not None:
            seed_path = os.path.join(self.dir, "seed.json")
            with open(seed_path, "w") as fh:
                json.dump(seed, fh)
            cmd += ["--seed", seed_path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("emulator died: " + self.proc.stderr.read().decode())
            if time.time() > deadline:
                raise RuntimeError("emulator did not write its port file")
            time.sleep(0.02)
        with open(self.port_file) as fh:
            self.port = int(fh.read().strip())
        with open(self.kubeconfig, "w") as fh:
            fh.write(f"""apiVersion: v1
kind: Config
clusters:
- name: emu
  cluster: {{server: "http://127.0.0.1:{self.port}"}}
users:
- name: emu
  user: {{token: dummy-token}}
contexts:
- name: emu
  context: {{cluster: emu, user: emu}}
current-context: emu
""")

    def kubectl(self, *args, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        return subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache_dir,
                               *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout)

    def ok(self, *args, stdin: str | None = None) -> str:
        res = self.kubectl(*args, stdin=stdin)
        if res.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n"
                                 f"{res.stderr}")
        return res.stdout

    def json(self, *args) -> dict:
        return json.loads(self.ok(*args, "-o", "json"))

    def http(self, method: str, path: str, body=None, ctype: str = "application/json"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": ctype} if data is not None else {})
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw

    def apply_yaml(self, text: str) -> str:
        path = os.path.join(self.dir, f"manifest-{time.monotonic_ns()}.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        return self.ok("apply", "-f", path)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@unittest.skipUnless(KUBECTL, "kubectl not installed")
class KubeApiTestBase(unittest.TestCase):
    delay = 0.3
    seed = None

    def setUp(self):
        self.emu = Emulator(self.delay, self.seed)
        self.addCleanup(self.emu.cleanup)

    def deploy_workloads(self, tag: str = "v0.80.0", with_ns: bool = True):
        if with_ns:
            self.emu.ok("create", "namespace", "iam")
        return self.emu.apply_yaml(WORKLOADS_YAML.replace("IMAGE_TAG", tag))

    def pods(self, ns: str = "iam") -> dict:
        return {p["metadata"]["name"]: p for p in self.emu.json("get", "pods", "-n", ns)["items"]}


class TestContract(KubeApiTestBase):
    seed = [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "aws-auth", "namespace": "kube-system"},
             "data": {"mapRoles": "- rolearn: arn:aws:iam::123456789012:role/node\n  username: "
                                  "system:node:{{EC2PrivateDNSName}}\n  groups: [system:nodes]\n"}}]

    def test_startup_discovery_seed_and_shutdown(self):
        emu = self.emu
        status, version = emu.http("GET", "/version")
        self.assertEqual((status, version["major"], version["minor"]), (200, "1", "32"))
        self.assertTrue(version["gitVersion"].startswith("v1.32."))
        self.assertIn("v1.32", emu.ok("version", "-o", "json"))
        status, groups = emu.http("GET", "/apis")
        self.assertIn("apps", [g["name"] for g in groups["groups"]])
        status, res = emu.http("GET", "/apis/apps/v1")
        self.assertIn("deployments", [r["name"] for r in res["resources"]])
        # OpenAPI v3: one document per group-version; patch operations carry GVK + fieldValidation
        status, index = emu.http("GET", "/openapi/v3")
        self.assertEqual(status, 200)
        self.assertIn("apis/apps/v1", index["paths"])
        status, doc = emu.http("GET", index["paths"]["api/v1"]["serverRelativeURL"])
        patch = doc["paths"]["/api/v1/namespaces/{namespace}/serviceaccounts/{name}"]["patch"]
        self.assertEqual(patch["x-kubernetes-group-version-kind"]["kind"], "ServiceAccount")
        self.assertIn("fieldValidation", [p["name"] for p in patch["parameters"]])
        # default namespaces and the seeded aws-auth ConfigMap
        names = emu.ok("get", "ns", "-o", "jsonpath={.items[*].metadata.name}").split()
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.assertIn(ns, names)
        cm = emu.json("get", "cm", "aws-auth", "-n", "kube-system")
        self.assertIn("system:nodes", cm["data"]["mapRoles"])
        # plain JSON clients: GET and PUT on the REST path
        status, cm = emu.http("GET", "/api/v1/namespaces/kube-system/configmaps/aws-auth")
        cm["data"]["mapUsers"] = "[]"
        status, updated = emu.http("PUT", "/api/v1/namespaces/kube-system/configmaps/aws-auth", cm)
        self.assertEqual(status, 200)
        self.assertNotEqual(updated["metadata"]["resourceVersion"], cm["metadata"]["resourceVersion"])
        # error shapes
        status, st = emu.http("GET", "/no/such/path")
        self.assertEqual((status, st["kind"], st["reason"]), (404, "Status", "NotFound"))
        status, st = emu.http("POST", "/version", {})
        self.assertEqual((status, st["reason"]), (405, "MethodNotAllowed"))
        status, st = emu.http("PATCH", "/api/v1/namespaces/default", b"{}", "text/plain")
        self.assertEqual((status, st["reason"]), (415, "UnsupportedMediaType"))
        # log file has one line per request; SIGTERM exits cleanly
        self.assertEqual(emu.stop(), 0)
        with open(emu.log_file) as fh:
            log = fh.read()
        self.assertIn("GET /version", log)
        self.assertIn("PUT /api/v1/namespaces/kube-system/configmaps/aws-auth 200", log)

    def test_table_output_and_jsonpath(self):
        emu = self.emu
        self.deploy_workloads()
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=30s")
        out = emu.ok("get", "deploy", "-n", "iam")
        self.assertRegex(out, r"NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE")
        self.assertRegex(out, r"gitops-agent\s+1/1\s+1\s+1\s+")
        self.assertRegex(emu.ok("get", "pods", "-n", "iam"), r"gitops-agent-\S+\s+1/1\s+Running")
        self.assertRegex(emu.ok("get", "sa", "-n", "iam"), r"argocd-application-controller\s+0\s+")
        self.assertEqual(emu.ok("get", "sa", "gitops-agent", "-n", "iam", "-o", "jsonpath={.metadata.name}"),
                         "gitops-agent")


class TestCreate(KubeApiTestBase):
    def test_create_namespace_twice_and_invalid_name(self):
        emu = self.emu
        self.assertIn("namespace/iam created", emu.ok("create", "namespace", "iam"))
        res = emu.kubectl("create", "namespace", "iam")
        self.assertEqual(res.returncode, 1)
        self.assertIn('Error from server (AlreadyExists): namespaces "iam" already exists', res.stderr)
        res = emu.kubectl("create", "namespace", "Bad_Name")
        self.assertEqual(res.returncode, 1)
        self.assertIn('The Namespace "Bad_Name" is invalid', res.stderr)
        self.assertIn("RFC 1123 label", res.stderr)

    def test_create_sa_configmap_secret_protobuf(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "serviceaccount", "gitops-agent", "-n", "iam")
        emu.ok("create", "configmap", "settings", "-n", "iam", "--from-literal=region=us-west-2",
               "--from-literal=empty=")
        emu.ok("create", "secret", "generic", "creds", "-n", "iam", "--from-literal=token=s3cr3t")
        sa = emu.json("get", "sa", "gitops-agent", "-n", "iam")
        self.assertEqual(sa["metadata"]["namespace"], "iam")
        self.assertNotIn("annotations", sa["metadata"])
        self.assertTrue(sa["metadata"]["uid"] and sa["metadata"]["creationTimestamp"])
        cm = emu.json("get", "cm", "settings", "-n", "iam")
        self.assertEqual(cm["data"], {"region": "us-west-2", "empty": ""})
        secret = emu.json("get", "secret", "creds", "-n", "iam")
        self.assertEqual((secret["type"], secret["data"]["token"]), ("Opaque", "czNjcjN0"))
        # every namespace gets a default service account, like the real service-account controller
        self.assertIn("default", emu.ok("get", "sa", "-n", "iam", "-o", "name"))
        # the create requests really were protobuf
        with open(emu.log_file) as fh:
            self.assertIn("POST /api/v1/namespaces/iam/secrets?fieldManager=kubectl-create", fh.read())

    def test_not_found_and_missing_namespace(self):
        emu = self.emu
        res = emu.kubectl("get", "serviceaccount", "x", "-n", "default", "-o", "json")
        self.assertEqual(res.returncode, 1)
        self.assertIn('Error from server (NotFound): serviceaccounts "x" not found', res.stderr)
        res = emu.kubectl("get", "deploy", "x", "-n", "default")
        self.assertIn('Error from server (NotFound): deployments.apps "x" not found', res.stderr)
        res = emu.kubectl("create", "sa", "x", "-n", "nope")
        self.assertEqual(res.returncode, 1)
        self.assertIn('namespaces "nope" not found', res.stderr)
        status, st = emu.http("GET", "/api/v1/namespaces/default/serviceaccounts/x")
        self.assertEqual((status, st["kind"], st["reason"], st["details"]["kind"]),
                         (404, "Status", "NotFound", "serviceaccounts"))


class TestServiceAccountAnnotations(KubeApiTestBase):
    def test_tutorial_bad_json_patch_is_rejected(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "sa", "gitops-agent", "-n", "iam")
        bad = json.dumps([{"op": "add", "path": "/metadata/annotations/", "value": ROLE_ARN}])
        # fresh SA: no annotations map -> the JSON patch itself cannot apply (422)
        res = emu.kubectl("-n", "iam", "patch", "serviceaccount", "gitops-agent", "--type=json", f"-p={bad}")
        self.assertEqual(res.returncode, 1)
        self.assertIn("The request is invalid", res.stderr)
        # SA with an annotations map -> the empty key "" fails validation (422 Invalid)
        emu.ok("-n", "iam", "annotate", "sa", "gitops-agent", "team=platform")
        res = emu.kubectl("-n", "iam", "patch", "serviceaccount", "gitops-agent", "--type=json", f"-p={bad}")
        self.assertEqual(res.returncode, 1)
        self.assertIn('The ServiceAccount "gitops-agent" is invalid', res.stderr)
        self.assertIn('metadata.annotations: Invalid value: "": name part must be non-empty', res.stderr)
        status, st = emu.http("PATCH", "/api/v1/namespaces/iam/serviceaccounts/gitops-agent",
                              json.loads(bad), "application/json-patch+json")
        self.assertEqual((status, st["reason"], st["details"]["kind"]), (422, "Invalid", "ServiceAccount"))
        self.assertEqual(st["message"].split(":")[0], 'ServiceAccount "gitops-agent" is invalid')
        # the correct JSON-pointer form works
        good = json.dumps([{"op": "add", "path": "/metadata/annotations/eks.amazonaws.com~1role-arn",
                            "value": ROLE_ARN}])
        emu.ok("-n", "iam", "patch", "serviceaccount", "gitops-agent", "--type=json", f"-p={good}")
        sa = emu.json("get", "sa", "gitops-agent", "-n", "iam")
        self.assertEqual(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"], ROLE_ARN)

    def test_annotate_overwrite_remove_and_json_patch_into_missing_map(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "sa", "gitops-agent", "-n", "iam")
        key = "eks.amazonaws.com/role-arn"
        emu.ok("-n", "iam", "annotate", "serviceaccount", "gitops-agent", f"{key}={ROLE_ARN}", "--overwrite")
        self.assertEqual(emu.json("get", "sa", "gitops-agent", "-n", "iam")["metadata"]["annotations"][key],
                         ROLE_ARN)
        res = emu.kubectl("-n", "iam", "annotate", "sa", "gitops-agent", f"{key}=other")
        self.assertEqual(res.returncode, 1)  # kubectl refuses without --overwrite
        emu.ok("-n", "iam", "annotate", "sa", "gitops-agent", f"{key}=arn:aws:iam::1:role/X", "--overwrite")
        emu.ok("-n", "iam", "annotate", "sa", "gitops-agent", f"{key}-")
        sa = emu.json("get", "sa", "gitops-agent", "-n", "iam")
        self.assertNotIn("annotations", sa["metadata"])  # empty maps are dropped, as in Go
        patch = json.dumps([{"op": "add", "path": "/metadata/annotations/x", "value": "y"}])
        res = emu.kubectl("-n", "iam", "patch", "sa", "gitops-agent", "--type=json", f"-p={patch}")
        self.assertEqual(res.returncode, 1)
        status, st = emu.http("PATCH", "/api/v1/namespaces/iam/serviceaccounts/gitops-agent",
                              json.loads(patch), "application/json-patch+json")
        self.assertEqual((status, st["reason"]), (422, "Invalid"))
        merge = json.dumps({"metadata": {"annotations": {key: ROLE_ARN}}})
        emu.ok("-n", "iam", "patch", "sa", "gitops-agent", "--type=merge", f"-p={merge}")
        self.assertEqual(emu.json("get", "sa", "gitops-agent", "-n", "iam")["metadata"]["annotations"][key],
                         ROLE_ARN)
        res = emu.kubectl("-n", "iam", "label", "sa", "gitops-agent", "bad key=1")
        self.assertNotEqual(res.returncode, 0)
        res = emu.kubectl("-n", "iam", "annotate", "sa", "gitops-agent", "-bad=1")
        self.assertNotEqual(res.returncode, 0)

    def test_stale_resource_version_put_conflicts(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "sa", "gitops-agent", "-n", "iam")
        path = "/api/v1/namespaces/iam/serviceaccounts/gitops-agent"
        _, sa = emu.http("GET", path)
        sa["metadata"]["labels"] = {"a": "1"}
        status, fresh = emu.http("PUT", path, sa)
        self.assertEqual(status, 200)
        status, st = emu.http("PUT", path, sa)  # sa still carries the old resourceVersion
        self.assertEqual((status, st["reason"]), (409, "Conflict"))
        self.assertIn("the object has been modified; please apply your changes to the latest version", st["message"])
        manifest = os.path.join(emu.dir, "stale.json")
        with open(manifest, "w") as fh:
            json.dump(sa, fh)
        res = emu.kubectl("replace", "-f", manifest)
        self.assertEqual(res.returncode, 1)
        self.assertIn("Error from server (Conflict)", res.stderr)
        del sa["metadata"]["resourceVersion"]  # unconditional update is allowed
        sa["metadata"]["labels"] = {"a": "2"}
        status, obj = emu.http("PUT", path, sa)
        self.assertEqual((status, obj["metadata"]["labels"]), (200, {"a": "2"}))
        self.assertGreater(int(obj["metadata"]["resourceVersion"]), int(fresh["metadata"]["resourceVersion"]))


class TestWorkloads(KubeApiTestBase):
    def test_apply_twice_is_unchanged_then_configured(self):
        emu = self.emu
        out = self.deploy_workloads()
        self.assertIn("deployment.apps/gitops-agent created", out)
        self.assertIn("statefulset.apps/argocd-application-controller created", out)
        out = self.deploy_workloads(with_ns=False)
        for line in out.strip().splitlines():
            self.assertTrue(line.endswith("unchanged"), out)
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertEqual(dep["metadata"]["generation"], 1)
        self.assertEqual(dep["spec"]["replicas"], 1)
        self.assertEqual(dep["spec"]["template"]["spec"]["securityContext"], {})
        self.assertEqual(dep["spec"]["strategy"]["type"], "RollingUpdate")
        sts = emu.json("get", "sts", "argocd-application-controller", "-n", "iam")
        self.assertEqual(sts["spec"]["updateStrategy"]["type"], "RollingUpdate")
        out = self.deploy_workloads("v0.81.0", with_ns=False)
        self.assertIn("deployment.apps/gitops-agent configured", out)
        self.assertEqual(emu.json("get", "deploy", "gitops-agent", "-n", "iam")["metadata"]["generation"], 2)
        emu.ok("apply", "--server-side", "-f", os.path.join(emu.dir, sorted(
            f for f in os.listdir(emu.dir) if f.startswith("manifest-"))[-1]))

    def test_big_crd_needs_server_side_apply(self):
        """Client-side apply copies the object into last-applied-configuration, and the API server
        refuses annotations over 262144 bytes (apimachinery `ValidateAnnotations`); server-side
        apply keeps no such copy, so the same CRD installs (Argo CD 3.3's ApplicationSet CRD)."""
        emu = self.emu
        path = os.path.join(emu.dir, "crd.json")
        with open(path, "w") as fh:
            json.dump(big_crd(300_000), fh)
        res = emu.kubectl("apply", "-f", path)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn('The CustomResourceDefinition "applicationsets.argoproj.io" is invalid: '
                      "metadata.annotations: Too long: must have at most 262144 bytes", res.stderr)
        self.assertEqual(emu.kubectl("get", "crd", "applicationsets.argoproj.io").returncode, 1)
        out = emu.ok("apply", "-f", path, "--server-side", "--field-manager=gitops-iam", "--force-conflicts")
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/applicationsets.argoproj.io serverside-applied",
                      out)
        crd = emu.json("get", "crd", "applicationsets.argoproj.io")
        self.assertNotIn("kubectl.kubernetes.io/last-applied-configuration",
                         crd["metadata"].get("annotations") or {})
        self.assertEqual(crd["spec"]["names"]["kind"], "ApplicationSet")
        # again: unchanged, still server-side
        out = emu.ok("apply", "-f", path, "--server-side", "--field-manager=gitops-iam", "--force-conflicts")
        self.assertIn("serverside-applied", out)
        self.assertIn("customresourcedefinitions.apiextensions.k8s.io",
                      emu.ok("api-resources", "--api-group=apiextensions.k8s.io", "-o", "name"))

    def test_a_crd_serves_its_kind(self):
        """The API server serves the kind a CRD defines, at its storage version (issue 14: Argo
        CD's Application, argo-cd manifests/crds/application-crd.yaml: v1alpha1, no status
        subresource); the schema is not enforced."""
        emu = self.emu
        emu.ok("apply", "-f", os.path.join(HERE, "guestbook", "application-crd.json"))
        path = os.path.join(emu.dir, "app.json")
        with open(path, "w") as fh:
            json.dump({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                       "metadata": {"name": "guestbook", "namespace": "default"},
                       "spec": {"project": "default", "destination": {"server": "https://x"}}}, fh)
        self.assertIn("application.argoproj.io/guestbook created", emu.ok("apply", "-f", path))
        self.assertIn("unchanged", emu.ok("apply", "-f", path))
        self.assertEqual(emu.json("get", "app", "guestbook", "-n", "default")["spec"]["destination"],
                         {"server": "https://x"})
        self.assertIn("applications.argoproj.io", emu.ok("api-resources", "--api-group=argoproj.io", "-o", "name"))
        emu.ok("delete", "applications.argoproj.io", "guestbook", "-n", "default")

    def test_patch_types_and_generation(self):
        emu = self.emu
        self.deploy_workloads()
        fs = json.dumps([{"op": "add", "path": "/spec/template/spec/securityContext/fsGroup", "value": 999}])
        emu.ok("-n", "iam", "patch", "deployment", "gitops-agent", "--type=json", f"-p={fs}")
        emu.ok("-n", "iam", "patch", "statefulset", "argocd-application-controller", "--type=json", f"-p={fs}")
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertEqual(dep["spec"]["template"]["spec"]["securityContext"], {"fsGroup": 999})
        self.assertEqual(dep["metadata"]["generation"], 2)
        # the same patch again is a no-op: nothing changes, nothing restarts
        out = emu.ok("-n", "iam", "patch", "deployment", "gitops-agent", "--type=json", f"-p={fs}")
        self.assertIn("(no change)", out)
        self.assertEqual(emu.json("get", "deploy", "gitops-agent", "-n", "iam")["metadata"]["generation"], 2)
        # metadata-only change: no generation bump
        emu.ok("-n", "iam", "patch", "deployment", "gitops-agent", "--type=merge",
               "-p", '{"metadata":{"labels":{"team":"x"}}}')
        self.assertEqual(emu.json("get", "deploy", "gitops-agent", "-n", "iam")["metadata"]["generation"], 2)
        # strategic merge: containers and env merged by name
        emu.ok("-n", "iam", "patch", "deployment", "gitops-agent", "--type=strategic", "-p",
               '{"spec":{"template":{"spec":{"containers":[{"name":"agent","env":[{"name":"EXTRA","value":"1"}]}]}}}}')
        env = emu.json("get", "deploy", "gitops-agent", "-n", "iam")["spec"]["template"]["spec"]["containers"][0]["env"]
        self.assertEqual([e["name"] for e in env], ["LOG_LEVEL", "EXTRA"])
        # wrong type is rejected
        bad = json.dumps([{"op": "replace", "path": "/spec/template/spec/securityContext/fsGroup", "value": "999"}])
        res = emu.kubectl("-n", "iam", "patch", "deployment", "gitops-agent", "--type=json", f"-p={bad}")
        self.assertEqual(res.returncode, 1)
        self.assertIn("cannot unmarshal string", res.stderr)
        # JSON patch test op / remove / replace / move / copy
        ops = json.dumps([{"op": "test", "path": "/spec/replicas", "value": 1},
                          {"op": "replace", "path": "/spec/replicas", "value": 2},
                          {"op": "copy", "from": "/metadata/labels/team", "path": "/metadata/labels/copy"},
                          {"op": "move", "from": "/metadata/labels/copy", "path": "/metadata/labels/moved"},
                          {"op": "remove", "path": "/metadata/labels/team"}])
        emu.ok("-n", "iam", "patch", "deployment", "gitops-agent", "--type=json", f"-p={ops}")
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertEqual(dep["spec"]["replicas"], 2)
        self.assertEqual(dep["metadata"]["labels"], {"app": "gitops-agent", "moved": "x"})
        failing = json.dumps([{"op": "test", "path": "/spec/replicas", "value": 5}])
        self.assertEqual(emu.kubectl("-n", "iam", "patch", "deployment", "gitops-agent", "--type=json",
                                     f"-p={failing}").returncode, 1)
        # strict field validation on apply (kubectl's default --validate=strict)
        res = emu.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "iam"},
            "dataa": {"a": "b"}}))
        self.assertEqual(res.returncode, 1)
        self.assertIn('unknown field "dataa"', res.stderr)

    def test_rollout_status_waits_for_the_controller(self):
        emu = self.emu
        self.deploy_workloads()
        for kind in ("deployment/gitops-agent", "statefulset/argocd-application-controller"):
            emu.ok("rollout", "status", kind, "-n", "iam", "--timeout=60s")
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        gen = dep["metadata"]["generation"]
        self.assertEqual(dep["status"]["observedGeneration"], gen)
        self.assertEqual(dep["status"]["updatedReplicas"], 1)
        emu.ok("rollout", "restart", "deployment/gitops-agent", "-n", "iam")
        emu.ok("rollout", "restart", "statefulset/argocd-application-controller", "-n", "iam")
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertEqual(dep["metadata"]["generation"], gen + 1)
        self.assertIn("kubectl.kubernetes.io/restartedAt", dep["spec"]["template"]["metadata"]["annotations"])
        res = emu.kubectl("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=60s")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn('deployment "gitops-agent" successfully rolled out', res.stdout)
        res = emu.kubectl("rollout", "status", "statefulset/argocd-application-controller", "-n", "iam",
                          "--timeout=60s")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("roll out complete", res.stdout)
        sts = emu.json("get", "sts", "argocd-application-controller", "-n", "iam")["status"]
        self.assertEqual(sts["currentRevision"], sts["updateRevision"])
        self.assertEqual((sts["readyReplicas"], sts["updatedReplicas"]), (1, 1))

    def test_rollout_never_finishes_without_service_account(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.apply_yaml(WORKLOADS_YAML.replace("IMAGE_TAG", "v1").split("---\n", 1)[1])  # no gitops-agent SA
        res = emu.kubectl("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=1s")
        self.assertEqual(res.returncode, 1)
        self.assertIn("timed out", res.stderr)
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertIn("ReplicaFailure", [c["type"] for c in dep["status"]["conditions"]])
        emu.ok("create", "sa", "gitops-agent", "-n", "iam")
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=30s")


class TestRolloutTiming(KubeApiTestBase):
    delay = 1.5

    def test_rollout_status_waits_at_least_the_delay(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "sa", "gitops-agent", "-n", "iam")
        start = time.monotonic()
        emu.apply_yaml(WORKLOADS_YAML.replace("IMAGE_TAG", "v1").split("---\n")[2])  # the Deployment only
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        self.assertNotEqual(dep["status"].get("updatedReplicas"), 1)
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=60s")
        self.assertGreaterEqual(time.monotonic() - start, self.delay)
        # restart: waiting is measured from just before the restart request
        start = time.monotonic()
        emu.ok("rollout", "restart", "deployment/gitops-agent", "-n", "iam")
        dep = emu.json("get", "deploy", "gitops-agent", "-n", "iam")
        st = dep["status"]
        self.assertFalse(st.get("observedGeneration") == dep["metadata"]["generation"]
                         and st.get("updatedReplicas") == 1 and st.get("replicas") == 1,
                         f"looks rolled out too early: {st}")
        res = emu.kubectl("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=60s")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertGreaterEqual(time.monotonic() - start, self.delay)
        self.assertIn("Waiting for deployment", res.stdout)


class TestPodsAndIdentity(KubeApiTestBase):
    def test_pods_get_irsa_env_only_when_created_after_annotation(self):
        emu = self.emu
        self.deploy_workloads()
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=30s")
        emu.ok("rollout", "status", "statefulset/argocd-application-controller", "-n", "iam", "--timeout=30s")
        before = self.pods()
        self.assertEqual(len(before), 2)
        self.assertIn("argocd-application-controller-0", before)
        dep_pod = next(p for n, p in before.items() if n.startswith("gitops-agent-"))
        self.assertRegex(dep_pod["metadata"]["name"], r"^gitops-agent-[a-z0-9]+-[a-z0-9]{5}$")
        self.assertEqual(dep_pod["spec"]["serviceAccountName"], "gitops-agent")
        self.assertEqual(dep_pod["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet")
        for p in before.values():
            names = [e["name"] for c in p["spec"]["containers"] for e in c.get("env", [])]
            self.assertNotIn("AWS_ROLE_ARN", names)
        for sa in ("gitops-agent", "argocd-application-controller"):
            emu.ok("-n", "iam", "annotate", "sa", sa, f"eks.amazonaws.com/role-arn={ROLE_ARN}", "--overwrite")
        time.sleep(0.5)
        self.assertEqual({n: p["metadata"]["uid"] for n, p in self.pods().items()},
                         {n: p["metadata"]["uid"] for n, p in before.items()})  # annotation alone restarts nothing
        dep_gen = emu.json("get", "deploy", "gitops-agent", "-n", "iam")["metadata"]["generation"]
        emu.ok("rollout", "restart", "deployment/gitops-agent", "-n", "iam")
        emu.ok("rollout", "restart", "statefulset/argocd-application-controller", "-n", "iam")
        self.assertEqual(emu.json("get", "deploy", "gitops-agent", "-n", "iam")["metadata"]["generation"],
                         dep_gen + 1)
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=30s")
        emu.ok("rollout", "status", "statefulset/argocd-application-controller", "-n", "iam", "--timeout=30s")
        after = self.pods()
        self.assertEqual(len(after), 2)
        self.assertNotIn(dep_pod["metadata"]["name"], after)
        self.assertNotEqual(after["argocd-application-controller-0"]["metadata"]["uid"],
                            before["argocd-application-controller-0"]["metadata"]["uid"])
        for p in after.values():
            env = {e["name"]: e.get("value") for e in p["spec"]["containers"][0]["env"]}
            self.assertEqual(env["AWS_ROLE_ARN"], ROLE_ARN)
            self.assertEqual(env["AWS_WEB_IDENTITY_TOKEN_FILE"],
                             "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
            self.assertEqual(env["AWS_STS_REGIONAL_ENDPOINTS"], "regional")
            self.assertGreaterEqual(p["metadata"]["creationTimestamp"], dep_pod["metadata"]["creationTimestamp"])
        self.assertEqual(len(emu.json("get", "rs", "-n", "iam")["items"]), 2)  # old RS kept, scaled to 0

    def test_delete_cascades(self):
        emu = self.emu
        self.deploy_workloads()
        emu.ok("rollout", "status", "deployment/gitops-agent", "-n", "iam", "--timeout=30s")
        emu.ok("rollout", "status", "statefulset/argocd-application-controller", "-n", "iam", "--timeout=30s")
        self.assertIn("deleted", emu.ok("delete", "deployment", "gitops-agent", "-n", "iam"))
        self.assertEqual(list(self.pods()), ["argocd-application-controller-0"])
        self.assertEqual(emu.json("get", "rs", "-n", "iam")["items"], [])
        res = emu.kubectl("delete", "deployment", "gitops-agent", "-n", "iam")
        self.assertEqual(res.returncode, 1)
        self.assertIn("NotFound", res.stderr)
        emu.ok("delete", "namespace", "iam", "--timeout=30s")
        self.assertNotIn("iam", emu.ok("get", "ns", "-o", "name"))
        self.assertEqual(emu.json("get", "pods", "-A")["items"], [])


class TestWatch(KubeApiTestBase):
    def test_watch_stream_with_field_selector(self):
        emu = self.emu
        emu.ok("create", "namespace", "iam")
        emu.ok("create", "configmap", "a", "-n", "iam")
        emu.ok("create", "configmap", "b", "-n", "iam")
        _, lst = emu.http("GET", "/api/v1/namespaces/iam/configmaps")
        rv = lst["metadata"]["resourceVersion"]
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        conn.request("GET", f"/api/v1/namespaces/iam/configmaps?watch=1&resourceVersion={rv}"
                            f"&fieldSelector=metadata.name%3Da&timeoutSeconds=5")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Transfer-Encoding"), "chunked")
        emu.ok("label", "configmap", "b", "-n", "iam", "x=1")
        emu.ok("label", "configmap", "a", "-n", "iam", "x=1")
        event = json.loads(resp.readline())
        self.assertEqual(event["type"], "MODIFIED")
        self.assertEqual(event["object"]["metadata"]["name"], "a")
        self.assertEqual(event["object"]["metadata"]["labels"], {"x": "1"})
        conn.close()


if __name__ == "__main__":
    unittest.main()
