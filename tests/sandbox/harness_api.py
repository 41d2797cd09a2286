#!/usr/bin/env python3
"""Harness GitOps API stand-in (stdlib only) for the gitops-iam sandbox.

Models the three agent-cluster calls that harness-go-sdk's
AgentClusterServiceApi makes (see shared/reference/facts.md):

  POST   /gitops/api/v1/agents/{agent}/clusters?accountIdentifier=A&orgIdentifier=O&projectIdentifier=P&identifier=ID
  GET    /gitops/api/v1/agents/{agent}/clusters/{ID}?accountIdentifier=A&orgIdentifier=O&projectIdentifier=P
  DELETE /gitops/api/v1/agents/{agent}/clusters/{ID}?...&forceDelete=true

Auth: header `x-api-key` must equal SANDBOX_HARNESS_API_KEY (env of this
process), else 401 {"status":"ERROR","code":"INVALID_TOKEN","message":"Token is not valid."}.

Agents: only those in --agents / SANDBOX_HARNESS_AGENTS (comma separated;
default gitopsagent,account.gitopsagent,org.gitopsagent) exist; others -> 404.
Scope: a cluster lives at the scope its query names (account, org, project);
a plain agent id is project level (orgIdentifier and projectIdentifier
required), `org.X` needs orgIdentifier, `account.X` only accountIdentifier.
Clusters are keyed by (account, org, project, agent, identifier).

Missing cluster on GET: 200 `{}` (no "cluster" key), as the real service answers;
with SANDBOX_HARNESS_MISSING=404 it is a 404 with grpc-gateway's error body and gRPC
NotFound, `{"error": ..., "code": 5, "message": ..., "details": []}` (harness-go-sdk
`GatewayruntimeError`).  DELETE of a missing cluster is always that 404.
Unknown agent: 404 with the same shape but gRPC code 2 (Unknown), a 404 that
terraform-provider-harness `helpers/errors.go` does not read as "gone" (the real body
could not be confirmed offline; see docs/sandbox.md).

Answers leave `tlsClientConfig.insecure` out when it is false: the Go model declares
it `omitempty` (harness-go-sdk `model_clusters_tls_client_config.go`).
`routingId` (harness-go-sdk sends the account as routingId on every call) is
accepted and recorded in the request log, never required: nothing says the real
server requires it.

Bodies are validated strictly (400 INVALID_REQUEST naming the field).  POST
without `"upsert": true` on an existing identifier -> 409 DUPLICATE_FIELD.

Repositories, applications, their sync through the IRSA chain, and the agent's Argo CD
controller for Application objects: harness_apps.py (routed from `_api`).

The API is also served under `/gateway`, the base path of Harness SaaS
(harness-go-sdk's default BasePath is https://app.harness.io/gateway).

Inspection (no auth): GET /_sandbox/clusters -> {"clusters": [...],
"request_count": N, "requests": [{"method","path","status"}...]} (privateKey redacted);
GET /_sandbox/requests -> {"requests": [{"method","path","query","headers","body","status"}]},
every request verbatim as it arrived (raw query string, x-api-key and content-type, body), held
in memory only, for tests that check the exact request; DELETE /_sandbox/requests forgets them.
Fault injection (no auth): POST /_sandbox/fail-next?status=503&count=1 makes the
next COUNT API calls answer STATUS (fault_answer.py: which calls, after how many, with what
body and headers); DELETE /_sandbox/fail-next drops the faults queued.

Run: harness_api.py --port-file FILE [--host 127.0.0.1] [--log FILE] [--agents a,b]
Binds a free port, writes it to FILE atomically once listening, serves until SIGTERM.
harness_forks.py forks stand-ins from one process that has imported this module already.
"""

import argparse
import base64
import binascii
import datetime
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import fault_answer  # answers injected through /_sandbox/fail-next
import harness_agents  # GitOps agents: create, get, delete, deploy.yaml
import harness_apps  # repositories, applications and the agent's sync

IDENT_RE = re.compile(r"^[a-zA-Z_][0-9a-zA-Z_]{0,127}$")
CLUSTERS_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/clusters/?$")
CLUSTER_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/clusters/([^/]+)$")
CONNECTION_TYPES = ("IRSA", "USERNAME_PASSWORD", "SERVICE_ACCOUNT", "IN_CLUSTER", "AWS_IAM", "CLIENT_CERT")


class Store:
    def __init__(self, api_key, agents, missing_mode, log_path):
        self.api_key = api_key
        self.agents = set(agents)
        self.missing_mode = missing_mode
        self.lock = threading.Lock()
        self.clusters = {}
        self.requests = []
        self.exchanges = []  # verbatim requests, for /_sandbox/requests
        self.faults = fault_answer.Faults()
        self.log_path = log_path
        self.agent_api = harness_agents.Agents(os.environ.get("SANDBOX_DIR", ""))

    def log(self, msg):
        line = "%s %s\n" % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), msg)
        if self.log_path:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(line)
        else:
            sys.stderr.write(line)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def scope_key(agent, q):
    """Validate the scope query parameters for `agent`; return (account, org, project).

    The cluster lives at the scope the query names; the agent may sit at that scope or above
    it (`org.X`, `account.X`).  A project-level agent needs org and project, an org-level one org.
    """
    account = q.get("accountIdentifier", "")
    org = q.get("orgIdentifier", "")
    project = q.get("projectIdentifier", "")
    if not account:
        raise ApiError(400, "INVALID_REQUEST", "accountIdentifier is required")
    if project and not org:
        raise ApiError(400, "INVALID_REQUEST", "orgIdentifier is required when projectIdentifier is given")
    if agent.startswith("account."):
        return (account, org, project)
    if agent.startswith("org."):
        if not org:
            raise ApiError(400, "INVALID_REQUEST", "orgIdentifier is required for org level agent %s" % agent)
        return (account, org, project)
    if not org or not project:
        raise ApiError(400, "INVALID_REQUEST",
                       "orgIdentifier and projectIdentifier are required for project level agent %s" % agent)
    return (account, org, project)


def validate_create_body(body):
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_REQUEST", "request body must be a JSON object")
    allowed = {"upsert", "cluster", "tags", "secretExpressions", "updateMask", "updatedFields"}
    extra = set(body) - allowed
    if extra:
        raise ApiError(400, "INVALID_REQUEST", "unknown field(s) in request body: %s" % ", ".join(sorted(extra)))
    if "upsert" in body and not isinstance(body["upsert"], bool):
        raise ApiError(400, "INVALID_REQUEST", "upsert must be a boolean")
    cluster = body.get("cluster")
    if not isinstance(cluster, dict):
        raise ApiError(400, "INVALID_REQUEST", "cluster is required and must be an object")
    for field in ("server", "name"):
        v = cluster.get(field)
        if not isinstance(v, str) or not v:
            raise ApiError(400, "INVALID_REQUEST", "cluster.%s is required" % field)
    if not re.match(r"^https?://[^\s/]+", cluster["server"]):
        raise ApiError(400, "INVALID_REQUEST", "cluster.server must be an http(s) URL, got %r" % cluster["server"])
    config = cluster.get("config")
    if not isinstance(config, dict):
        raise ApiError(400, "INVALID_REQUEST", "cluster.config is required and must be an object")
    ctype = config.get("clusterConnectionType")
    if ctype not in CONNECTION_TYPES:
        raise ApiError(400, "INVALID_REQUEST",
                       "cluster.config.clusterConnectionType must be one of %s, got %r" % ("|".join(CONNECTION_TYPES), ctype))
    tls = config.get("tlsClientConfig")
    if tls is not None and not isinstance(tls, dict):
        raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig must be an object")
    if tls:
        if "insecure" in tls and not isinstance(tls["insecure"], bool):
            raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig.insecure must be a boolean")
        if "caData" in tls:
            ca = tls["caData"]
            if not isinstance(ca, str) or not ca:
                raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig.caData must be a non-empty string")
            try:
                base64.b64decode(ca, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig.caData is not valid base64")
    if ctype == "IRSA":
        role = config.get("roleARN")
        if not isinstance(role, str) or not re.match(r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+", role):
            raise ApiError(400, "INVALID_REQUEST", "cluster.config.roleARN must be an IAM role ARN for IRSA, got %r" % (role,))
        name = config.get("awsClusterName")
        if not isinstance(name, str) or not name:
            raise ApiError(400, "INVALID_REQUEST", "cluster.config.awsClusterName is required for IRSA")
        if not tls or not tls.get("caData"):
            raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig.caData is required for IRSA")
        if tls.get("insecure") is True:
            raise ApiError(400, "INVALID_REQUEST", "cluster.config.tlsClientConfig.insecure must be false with caData")
    return cluster


GRPC_NOT_FOUND = 5
GRPC_UNKNOWN = 2


class GatewayError(Exception):
    """An error in grpc-gateway's shape: numeric gRPC code (harness-go-sdk GatewayruntimeError)."""

    def __init__(self, status, grpc_code, message):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, "code": grpc_code, "message": message, "details": []}


def answer_view(obj):
    """The stored registration as the API answers it: Go `omitempty` drops `insecure: false`."""
    tls = obj.get("cluster", {}).get("config", {}).get("tlsClientConfig")
    if not isinstance(tls, dict) or tls.get("insecure") is not False:
        return obj
    out = json.loads(json.dumps(obj))
    del out["cluster"]["config"]["tlsClientConfig"]["insecure"]
    return out


def make_handler(store):
    class Handler(BaseHTTPRequestHandler):
        server_version = "harness-sandbox/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # route http.server's access log to our log
            store.log("access %s %s" % (self.address_string(), harness_agents.redact_line(fmt % args)))

        def _send(self, status, obj):
            reply = obj if isinstance(obj, harness_agents.Reply) else None
            data = reply.body if reply and isinstance(reply.body, bytes) else json.dumps(reply.body if reply else obj).encode()
            self.send_response(status)
            content_type = reply.content_type if reply else "application/json"
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in (reply.headers if reply else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _read_raw(self):
            n = int(self.headers.get("Content-Length") or 0)
            self.raw = self.rfile.read(n) if n else b""

        def _body(self):
            raw = self.raw
            if not raw:
                raise ApiError(400, "INVALID_REQUEST", "request body is required")
            try:
                return json.loads(raw)
            except ValueError as e:
                raise ApiError(400, "INVALID_REQUEST", "request body is not valid JSON: %s" % e)

        def _handle(self, method):
            parts = urlsplit(self.path)
            path = parts.path
            q = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            self._read_raw()
            if path.startswith("/_sandbox/"):
                return self._sandbox(method, path, q)
            status = 500
            try:
                status, obj = self._api(method, path, q)
            except ApiError as e:
                status, obj = e.status, {"status": "ERROR", "code": e.code, "message": e.message}
            except GatewayError as e:
                status, obj = e.status, e.body
            except harness_agents.Reply as e:
                status, obj = e.status, e
            exchange = {"method": method, "path": path, "query": parts.query, "status": status,
                        "headers": {k: self.headers[k] for k in ("x-api-key", "content-type") if k in self.headers},
                        "body": self.raw.decode("utf-8", "replace")}
            q = harness_agents.redact(q)
            with store.lock:
                store.exchanges.append(exchange)
                store.requests.append({"method": method, "path": path, "query": q, "status": status})
            store.log("%s %s %s -> %d" % (method, path, json.dumps(q, sort_keys=True), status))
            self._send(status, obj)

        def _sandbox(self, method, path, q):
            if method == "GET" and path == "/_sandbox/clusters":
                with store.lock:
                    out = {"clusters": list(store.clusters.values()),
                           "request_count": len(store.requests),
                           "requests": list(store.requests)}
                return self._send(200, out)
            if path == "/_sandbox/requests" and method in ("GET", "DELETE"):
                with store.lock:
                    out = {"requests": list(store.exchanges)}
                    if method == "DELETE":
                        store.exchanges.clear()
                return self._send(200, out)
            if harness_agents.sandbox_route(store, method, path) is not None:
                return self._send(200, harness_agents.sandbox_route(store, method, path))
            if method == "POST" and path == "/_sandbox/fail-next":
                try:
                    fault = fault_answer.Fault.parse(q, json.loads(self.raw) if self.raw else {})
                except ValueError as e:
                    return self._send(400, {"message": str(e)})
                with store.lock:
                    store.faults.add(fault)
                return self._send(200, {"queued": fault.count, "status": fault.status})
            if method == "DELETE" and path == "/_sandbox/fail-next":
                with store.lock:
                    store.faults.clear()
                return self._send(200, {})
            return self._send(404, {"message": "unknown sandbox endpoint"})

        def _api(self, method, path, q):
            if self.headers.get("x-api-key", "") != store.api_key or not store.api_key:
                raise ApiError(401, "INVALID_TOKEN", "Token is not valid.")
            with store.lock:
                injected = store.faults.take(method, path)
            if injected is not None:
                raise injected.reply()
            if path.startswith("/gateway/"):
                path = path[len("/gateway"):]
            routed = harness_agents.route(store, method, path, q, self._body)
            if routed is None:
                routed = harness_apps.handle(store, method, path, q, self._body, sys.modules[__name__])
            if routed is not None:
                return routed
            m_list = CLUSTERS_RE.match(path)
            m_one = CLUSTER_RE.match(path)
            agent = unquote((m_list or m_one).group(1)) if (m_list or m_one) else None
            if agent is None:
                raise ApiError(404, "RESOURCE_NOT_FOUND", "no such API: %s %s" % (method, path))
            if agent not in store.agents:
                raise GatewayError(404, GRPC_UNKNOWN, "agent %s not found" % agent)
            if m_list and method == "POST":
                scope = scope_key(agent, q)
                ident = q.get("identifier", "")
                if not IDENT_RE.match(ident):
                    raise ApiError(400, "INVALID_REQUEST",
                                   "identifier %r must match ^[a-zA-Z_][0-9a-zA-Z_]{0,127}$" % ident)
                body = self._body()
                cluster = validate_create_body(body)
                key = scope + (agent, ident)
                with store.lock:
                    existing = store.clusters.get(key)
                    if existing is not None and not body.get("upsert"):
                        raise ApiError(409, "DUPLICATE_FIELD",
                                       "Cluster with identifier %s already exists (use upsert)" % ident)
                    stamp = now_iso()
                    obj = {
                        "accountIdentifier": scope[0],
                        "orgIdentifier": scope[1],
                        "projectIdentifier": scope[2],
                        "agentIdentifier": agent,
                        "identifier": ident,
                        "cluster": dict(cluster, connectionState={"status": "Unknown", "message": ""}),
                        "createdAt": existing["createdAt"] if existing else stamp,
                        "lastModifiedAt": stamp,
                    }
                    if body.get("tags"):
                        obj["tags"] = body["tags"]
                    obj = {k: v for k, v in obj.items() if v != ""}
                    store.clusters[key] = obj
                return 200, answer_view(obj)
            if m_one and method in ("GET", "DELETE"):
                scope = scope_key(agent, q)
                ident = unquote(m_one.group(2))
                key = scope + (agent, ident)
                with store.lock:
                    obj = store.clusters.get(key)
                    if method == "DELETE" and obj is not None:
                        del store.clusters[key]
                if obj is None:
                    if method == "GET" and store.missing_mode != "404":
                        return 200, {}
                    raise GatewayError(404, GRPC_NOT_FOUND, "cluster %s not found" % ident)
                return 200, ({} if method == "DELETE" else answer_view(obj))
            raise ApiError(405, "METHOD_NOT_ALLOWED", "%s not allowed on %s" % (method, path))

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_DELETE(self):
            self._handle("DELETE")

        def do_PUT(self):
            self._handle("PUT")

    return Handler


def main(argv=None, on_listening=None):
    """Serves until SIGTERM (or `stop`); `on_listening(port, stop)` once listening (harness_forks.py)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port-file", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--log")
    p.add_argument("--agents", default=os.environ.get("SANDBOX_HARNESS_AGENTS",
                                                      "gitopsagent,account.gitopsagent,org.gitopsagent"))
    args = p.parse_args(argv)
    key = os.environ.get("SANDBOX_HARNESS_API_KEY", "")
    if not key:
        print("harness_api.py: SANDBOX_HARNESS_API_KEY must be set", file=sys.stderr)
        return 2
    store = Store(key, [a.strip() for a in args.agents.split(",") if a.strip()],
                  os.environ.get("SANDBOX_HARNESS_MISSING", "200"), args.log)
    server = ThreadingHTTPServer((args.host, 0), make_handler(store))
    server.daemon_threads = True
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.port_file)
    store.log("listening on %s:%d agents=%s" % (args.host, port, ",".join(sorted(store.agents))))
    if args.log:  # the agent's Argo CD also reconciles Application objects (harness_apps.py)
        harness_apps.start_controller(os.path.dirname(os.path.abspath(args.log)))

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if on_listening:
        on_listening(port, stop)
    server.serve_forever()
    store.log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
