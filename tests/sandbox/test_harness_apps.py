"""The Harness stand-in's repositories and applications (harness_apps.py), without AWS: fast.

The sync through the IRSA chain into a testing cluster needs the whole sandbox; the end-to-end
test `e2e::guestbook_e2e` covers it. Here: the paths, the field check against the published
models (harness_fields.json), idempotent create, the links an application needs, delete, and
that a sync without an agent ends in Error with a message.

Run from the repository root:  python3 -m unittest tests/sandbox/test_harness_apps.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness_apps

KEY = "sbx_test"
SCOPE = "accountIdentifier=acc&routingId=acc"
AGENT = "/gitops/api/v1/agents/account.gitopsagent"
SERVER = "https://ABC.gr7.us-east-1.eks.amazonaws.com"
REPO = {"repo": {"repo": "https://github.com/argoproj/argocd-example-apps", "name": "argocd-example-apps",
                 "type": "git", "connectionType": "HTTPS_ANONYMOUS"}, "upsert": True}
APP = {"application": {"metadata": {"name": "guestbook"}, "spec": {
    "project": "default",
    "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps", "path": "guestbook",
               "targetRevision": "HEAD"},
    "destination": {"server": SERVER, "namespace": "default"}}}, "upsert": True}
CLUSTER = {"upsert": True, "cluster": {"server": SERVER, "name": "testing", "config": {
    "clusterConnectionType": "IRSA", "roleARN": "arn:aws:iam::123456789012:role/Deployer",
    "awsClusterName": "testing", "tlsClientConfig": {"insecure": False, "caData": "Q0E="}}}}


class TestHarnessApps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        port_file = os.path.join(cls.dir.name, "harness.port")
        cls.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "harness_api.py"), "--port-file", port_file,
             "--log", os.path.join(cls.dir.name, "harness.log")],
            env=dict(os.environ, SANDBOX_HARNESS_API_KEY=KEY), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(port_file) as f:
            cls.url = "http://127.0.0.1:%d" % int(f.read())

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        cls.dir.cleanup()

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", "x-api-key": KEY})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_fields_come_from_the_published_models(self):
        with open(os.path.join(HERE, "harness_fields.json")) as f:
            doc = json.load(f)
        self.assertIn("harness-open-api 2.0.1", doc["_source"])
        self.assertIn("repoURL", doc["models"]["ApplicationsApplicationSource"])
        self.assertEqual(harness_apps.unknown_fields(APP, "ApplicationsApplicationCreateRequest"), [])
        typo = json.loads(json.dumps(APP))
        typo["application"]["spec"]["source"]["repoUrl"] = typo["application"]["spec"]["source"].pop("repoURL")
        self.assertEqual(harness_apps.unknown_fields(typo, "ApplicationsApplicationCreateRequest"),
                         ["application.spec.source.repoUrl"])

    def test_repository_and_application_lifecycle_and_a_sync_without_an_agent(self):
        status, obj = self.call("POST", AGENT + "/repositories?" + SCOPE + "&identifier=argocd_example_apps",
                                dict(REPO, repo=dict(REPO["repo"], connection="x")))
        self.assertEqual((status, obj["message"]),
                         (400, "unknown field(s) in RepositoriesRepoCreateRequest: repo.connection"))
        self.assertEqual(self.call("GET", AGENT + "/repositories/argocd_example_apps?" + SCOPE)[0], 404)
        status, obj = self.call("POST", AGENT + "/repositories?" + SCOPE + "&identifier=argocd_example_apps", REPO)
        self.assertEqual((status, obj["identifier"], obj["repository"]["repo"]),
                         (200, "argocd_example_apps", REPO["repo"]["repo"]))
        status, got = self.call("GET", AGENT + "/repositories/argocd_example_apps?" + SCOPE)
        self.assertEqual((status, got["repository"]["connectionType"]), (200, "HTTPS_ANONYMOUS"))

        apps = AGENT + "/applications?" + SCOPE + "&clusterIdentifier=testing&repoIdentifier=argocd_example_apps"
        status, obj = self.call("POST", apps, APP)
        self.assertEqual(status, 400)
        self.assertIn("cluster 'testing' is not registered", obj["message"])
        self.assertEqual(self.call("POST", AGENT + "/clusters?" + SCOPE + "&identifier=testing", CLUSTER)[0], 200)
        other = json.loads(json.dumps(APP))
        other["application"]["spec"]["destination"]["server"] = "https://elsewhere"
        status, obj = self.call("POST", apps, other)
        self.assertEqual(obj["message"], 'error getting cluster by server "https://elsewhere": rpc error: '
                         'code = NotFound desc = cluster "https://elsewhere" not found')
        status, obj = self.call("POST", apps, APP)
        self.assertEqual(status, 200, obj)
        self.assertEqual((obj["name"], obj["clusterIdentifier"], obj["app"]["status"]["sync"]["status"]),
                         ("guestbook", "testing", "OutOfSync"))
        # the same again: the same application
        self.assertEqual(self.call("POST", apps, APP)[1]["createdAt"], obj["createdAt"])
        status, obj = self.call("POST", AGENT + "/applications/guestbook/sync?" + SCOPE, {"name": "guestbook"})
        self.assertEqual((status, obj["app"]["status"]["operationState"]["phase"]), (200, "Running"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = self.call("GET", AGENT + "/applications/guestbook?" + SCOPE)[1]["app"]["status"]
            if state["operationState"]["phase"] != "Running":
                break
            time.sleep(0.05)
        # no cluster of this (empty) sandbox runs the agent's application controller
        self.assertEqual((state["operationState"]["phase"], state["sync"]["status"], state["health"]["status"]),
                         ("Error", "Unknown", "Unknown"))
        self.assertIn("argocd-application-controller", state["operationState"]["message"])
        self.assertEqual(self.call("DELETE", AGENT + "/applications/guestbook?" + SCOPE + "&request.cascade=true"),
                         (200, {}))
        status, obj = self.call("GET", AGENT + "/applications/guestbook?" + SCOPE)
        self.assertEqual((status, obj["code"]), (404, 5))
        self.assertEqual(self.call("DELETE", AGENT + "/repositories/argocd_example_apps?" + SCOPE), (200, {}))
        self.assertEqual(self.call("GET", "/gitops/api/v1/agents/nope/applications/guestbook?" + SCOPE)[1]["code"], 2)


if __name__ == "__main__":
    unittest.main()
