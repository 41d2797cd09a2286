"""Self-tests of the Harness stand-in's GitOps agents (harness_agents.py), about a second.

The stand-in runs as a process; the management cluster is a small fake of the kube emulator's
HTTP API (the three reads the stand-in makes), written into a sandbox directory's
clusters/*.json as the eksctl emulator records a cluster.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sbx_selftest"
NS = "iam"


class FakeKube:
    """Serves the Secret, Deployment and pods of namespace iam from `objects`."""

    def __init__(self):
        self.objects = {}
        kube = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                assert self.headers["Authorization"] == "Bearer sandbox-123456789012"
                obj = kube.objects.get(self.path)
                data = json.dumps(obj if obj is not None else {"kind": "Status", "code": 404}).encode()
                self.send_response(200 if obj is not None else 404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def run_agent(self, token_b64, pod_created, generation=1, ready=1):
        self.objects["/api/v1/namespaces/iam/secrets/gitops-agent"] = {"data": {"GITOPS_AGENT_TOKEN": token_b64}}
        self.objects["/apis/apps/v1/namespaces/iam/deployments/gitops-agent"] = {
            "metadata": {"generation": generation}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "updatedReplicas": ready, "readyReplicas": ready}}
        self.objects["/api/v1/namespaces/iam/pods"] = {"items": [{
            "metadata": {"creationTimestamp": pod_created},
            "spec": {"serviceAccountName": "gitops-agent"}, "status": {"phase": "Running"}}]}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class TestAgents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="harness-agents-")
        cls.kube = FakeKube()
        os.makedirs(os.path.join(cls.dir, "clusters"))
        with open(os.path.join(cls.dir, "clusters", "123456789012-us-east-1-management.json"), "w") as f:
            json.dump({"port": cls.kube.port, "account": "123456789012"}, f)
        port_file = os.path.join(cls.dir, "harness.port")
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "harness_api.py"), "--port-file", port_file,
             "--log", os.path.join(cls.dir, "harness.log")],
            env=dict(os.environ, SANDBOX_HARNESS_API_KEY=KEY, SANDBOX_DIR=cls.dir))
        deadline = time.time() + 10
        while not os.path.exists(port_file) and time.time() < deadline:
            time.sleep(0.02)
        with open(port_file, encoding="utf-8") as f:
            cls.base = "http://127.0.0.1:%s" % f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        cls.kube.server.shutdown()

    def call(self, method, path, query=None, body=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"x-api-key": KEY})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()

    def create(self, ident, **extra):
        body = {"accountIdentifier": "acc", "identifier": ident, "name": ident,
                "type": "MANAGED_ARGO_PROVIDER", "metadata": {"namespace": NS}}
        body.update(extra)
        return self.call("POST", "/gitops/api/v1/agents", {"routingId": "acc"}, body)

    def scope(self, **extra):
        return dict({"accountIdentifier": "acc", "routingId": "acc"}, **extra)

    def test_unknown_fields_and_query_parameters_are_refused(self):
        status, obj = self.create("typo1", metaData={"namespace": NS})
        self.assertEqual(status, 400, obj)
        self.assertIn("unknown field metaData", obj["message"])
        status, obj = self.create("typo2", metadata={"namespace": NS, "namespaces": "x"})
        self.assertEqual(status, 400, obj)
        self.assertIn("metadata.namespaces", obj["message"])
        status, obj = self.create("typo3", type="MANAGED")
        self.assertEqual(status, 400, obj)
        status, obj = self.call("GET", "/gitops/api/v1/agents/typo1/deploy.yaml", self.scope(namespce=NS))
        self.assertEqual(status, 400, obj)
        self.assertIn("namespce", obj["message"])

    def test_create_get_delete_and_the_cluster_api_knows_a_created_agent(self):
        status, obj = self.create("life", tags={"managed-by": "gitops-iam"})
        self.assertEqual(status, 200, obj)
        self.assertTrue(obj["credentials"]["privateKey"])
        self.assertEqual(obj["prefixedIdentifier"], "account.life")
        self.assertEqual(self.create("life")[0], 409)
        status, got = self.call("GET", "/gitops/api/v1/agents/life", self.scope())
        self.assertEqual(status, 200, got)
        self.assertNotIn("credentials", got)
        self.assertEqual(got["metadata"], {"namespace": NS})
        self.assertEqual(got["tags"], {"managed-by": "gitops-iam"})
        self.assertEqual(got["health"]["connectionStatus"], "DISCONNECTED")
        # the cluster API serves the agent by its prefixed identifier
        status, c = self.call("GET", "/gitops/api/v1/agents/account.life/clusters/testing", self.scope())
        self.assertEqual((status, c), (200, {}))
        self.assertEqual(self.call("DELETE", "/gitops/api/v1/agents/life", self.scope())[0], 200)
        status, gone = self.call("GET", "/gitops/api/v1/agents/life", self.scope())
        self.assertEqual((status, gone["code"]), (404, 5), gone)
        self.assertEqual(self.call("DELETE", "/gitops/api/v1/agents/life", self.scope())[0], 404)

    def test_deploy_yaml_without_the_key_regenerates_the_token_and_cuts_off_the_running_agent(self):
        created = self.create("rot")[1]
        status, yaml = self.call("GET", "/gitops/api/v1/agents/rot/deploy.yaml", self.scope(namespace=NS))
        self.assertEqual(status, 200, yaml)
        self.assertIn("kind: Deployment", yaml)
        token_b64 = yaml.split("GITOPS_AGENT_TOKEN: ", 1)[1].split("\n", 1)[0]
        key = base64.b64decode(token_b64).decode()
        self.assertNotEqual(key, created["credentials"]["privateKey"], "regenerated")
        # the agent runs with that token, in a pod started after it: connected
        self.kube.run_agent(token_b64, iso(time.time() + 1))
        health = self.call("GET", "/gitops/api/v1/agents/rot", self.scope())[1]["health"]
        self.assertEqual(health["connectionStatus"], "CONNECTED", health)
        self.assertEqual(health["harnessGitopsAgent"]["status"], "HEALTHY", health)
        # with its key, the same manifest and no regeneration: still connected
        again = self.call("GET", "/gitops/api/v1/agents/rot/deploy.yaml", self.scope(namespace=NS, privateKey=key))[1]
        self.assertEqual(again, yaml)
        self.assertEqual(self.call("GET", "/gitops/api/v1/agents/rot", self.scope())[1]["health"]["connectionStatus"],
                         "CONNECTED")
        # the key never reaches the request log
        requests = self.call("GET", "/_sandbox/clusters")[1]["requests"]
        self.assertNotIn(key, json.dumps(requests))
        with open(os.path.join(self.dir, "harness.log"), encoding="utf-8") as f:
            self.assertNotIn(key, f.read())
        # without it: a new token; the running pod holds the old one
        self.call("GET", "/gitops/api/v1/agents/rot/deploy.yaml", self.scope(namespace=NS))
        health = self.call("GET", "/gitops/api/v1/agents/rot", self.scope())[1]["health"]
        self.assertEqual(health["connectionStatus"], "DISCONNECTED", health)
        # the new token applied but the pod not restarted: still cut off
        new_b64 = base64.b64encode(
            self.call("GET", "/_sandbox/agents")[1]["agents"][-1]["credentials"]["privateKey"].encode()).decode()
        self.kube.run_agent(new_b64, iso(time.time() - 60))
        health = self.call("GET", "/gitops/api/v1/agents/rot", self.scope())[1]["health"]
        self.assertEqual(health["connectionStatus"], "DISCONNECTED", health)
        # a rollout not finished is not connected either
        self.kube.run_agent(new_b64, iso(time.time() + 1), generation=2)
        health = self.call("GET", "/gitops/api/v1/agents/rot", self.scope())[1]["health"]
        self.assertEqual(health["connectionStatus"], "DISCONNECTED", health)


if __name__ == "__main__":
    unittest.main()
