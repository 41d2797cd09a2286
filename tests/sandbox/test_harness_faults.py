"""Self-tests of the Harness stand-in's test devices: the fork server (harness_forks.py), the
`/gateway` base path, the verbatim request log and the injected answers (fault_answer.py).
About a second: one fork server and one stand-in for the class, its faults and log dropped
between tests.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "sbx_faults"
CLUSTER = "/gitops/api/v1/agents/myagent/clusters/testing"
QUERY = "?accountIdentifier=acc&orgIdentifier=default&projectIdentifier=proj"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="harness-faults-")
        cls.socket = os.path.join(cls.dir, "forks.sock")
        # It returns once listening; the fork server carries on in the background.
        subprocess.run([sys.executable, "-S", os.path.join(HERE, "harness_forks.py"), cls.socket, "1"], check=True)
        cls.conn, ready = cls.fork()
        cls.pid = ready["pid"]
        cls.url = "http://127.0.0.1:%d" % ready["port"]

    @classmethod
    def fork(cls):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(cls.socket)
        spec = {"key": KEY, "agents": "myagent", "missing": "404", "dir": cls.dir}
        conn.sendall(json.dumps(spec).encode() + b"\n")
        return conn, json.loads(conn.makefile("r").readline())

    @classmethod
    def tearDownClass(cls):
        os.kill(cls.pid, 9)
        cls.conn.close()
        # Idle for a second, the fork server removes its socket and exits.
        deadline = time.monotonic() + 20
        while os.path.exists(cls.socket) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not os.path.exists(cls.socket), "the fork server did not exit once idle"

    def setUp(self):
        self.call("DELETE", "/_sandbox/fail-next")
        self.call("DELETE", "/_sandbox/requests")

    def call(self, method, path, body=None, key=KEY):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"x-api-key": key, "Content-Type": "application/json"})
        try:
            with OPENER.open(req, timeout=10) as r:
                return r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers

    def fault(self, **spec):
        status, body, _ = self.call("POST", "/_sandbox/fail-next", spec)
        self.assertEqual(status, 200, body)

    def test_the_request_log_holds_each_request_verbatim(self):
        body = b'{"upsert": true}'
        self.call("POST", "/gitops/api/v1/agents/myagent/clusters" + QUERY + "&identifier=testing", body)
        self.call("GET", "/gateway" + CLUSTER + QUERY, key="wrong")
        requests = json.loads(self.call("GET", "/_sandbox/requests")[1])["requests"]
        self.assertEqual([(r["method"], r["path"], r["query"], r["status"]) for r in requests], [
            ("POST", "/gitops/api/v1/agents/myagent/clusters", QUERY[1:] + "&identifier=testing", 400),
            ("GET", "/gateway" + CLUSTER, QUERY[1:], 401),
        ])
        self.assertEqual(requests[0]["body"], body.decode())
        self.assertEqual(requests[0]["headers"], {"x-api-key": KEY, "content-type": "application/json"})
        self.assertEqual(requests[1]["headers"]["x-api-key"], "wrong")

    def test_the_api_is_served_under_gateway_too(self):
        for prefix in ("", "/gateway"):
            status, body, _ = self.call("GET", prefix + CLUSTER + QUERY)
            self.assertEqual((status, json.loads(body)["code"]), (404, 5), prefix)

    def test_a_fault_matches_its_method_and_path_after_skip_for_count_calls(self):
        self.fault(method="GET", path=CLUSTER, status=503, count=2, skip=1,
                   body="upstream connect error", content_type="text/plain")
        self.call("DELETE", CLUSTER + QUERY)  # another method: not matched
        answers = [self.call("GET", CLUSTER + QUERY)[:2] for _ in range(4)]
        self.assertEqual([a[0] for a in answers], [404, 503, 503, 404])
        self.assertEqual(answers[1][1], b"upstream connect error")

    def test_a_fault_can_answer_every_call_with_headers_and_no_content_type(self):
        self.fault(method="GET", path=CLUSTER, status=302, count=-1, body="", content_type=None,
                   headers={"Location": "http://127.0.0.1:1/collect"})
        for _ in range(3):
            status, body, headers = self.call("GET", CLUSTER + QUERY)
            self.assertEqual((status, body, headers["Location"], headers["Content-Type"]),
                             (302, b"", "http://127.0.0.1:1/collect", None))
        self.fault(method="GET", path=CLUSTER, status=200, count=1)  # queued behind: never reached
        self.assertEqual(self.call("GET", CLUSTER + QUERY)[0], 302)

    def test_the_plain_form_answers_the_next_call_with_harness_error_shape(self):
        status, _, _ = self.call("POST", "/_sandbox/fail-next?status=500&count=1")
        self.assertEqual(status, 200)
        status, body, _ = self.call("GET", CLUSTER + QUERY)
        self.assertEqual((status, json.loads(body)["code"]), (500, "INTERNAL_SERVER_ERROR"))

    def test_a_stand_in_stops_when_its_connection_closes(self):
        conn, ready = self.fork()
        self.assertTrue(alive(ready["pid"]))
        conn.close()
        deadline = time.monotonic() + 10
        while alive(ready["pid"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertFalse(alive(ready["pid"]), "the stand-in outlived its client")

    def test_a_bad_fault_is_refused(self):
        for spec in ({"count": 0}, {"skip": -1}, {"status": "x"}, {"unknown": 1}):
            self.assertEqual(self.call("POST", "/_sandbox/fail-next", spec)[0], 400, spec)


if __name__ == "__main__":
    unittest.main()
