"""GitOps agents in the Harness stand-in: create, get, delete, and the agent's install manifest.

Hooked into harness_api.py's router (`route`, `sandbox_route`, `redact`). The calls, as
harness-go-sdk `harness/nextgen/api_agents.go` and harness-open-api 2.0.1 `api/agents_api.py`
make them:

  POST   /gitops/api/v1/agents?routingId=A                     body: V1Agent
  GET    /gitops/api/v1/agents/{identifier}?accountIdentifier=A[&orgIdentifier=O][&projectIdentifier=P]
  DELETE /gitops/api/v1/agents/{identifier}?accountIdentifier=A[&orgIdentifier=O][&projectIdentifier=P]
  GET    /gitops/api/v1/agents/{agentIdentifier}/deploy.yaml?accountIdentifier=A&...&namespace=NS[&privateKey=K]

Every body field and query parameter must be one the published models name
(`harness_fields.json`, made by harness_fields_gen.py from the harness-open-api wheel), plus
`routingId` (harness-go-sdk sends it on every call): a typo is a 400, not a silent no-op.

The agent's token: create answers `credentials.privateKey` once.  deploy.yaml without
`privateKey` regenerates it (terraform-provider-harness `data_source_gitops_agent_deploy_yaml.go`:
"If provided authentication token will not be regenerated"), which cuts off an agent running
with the old one; with `privateKey` the manifest carries that key.  The manifest is
tests/sandbox/agent.yaml plus a Secret `gitops-agent` (`GITOPS_AGENT_TOKEN`, base64 of the key)
and a ConfigMap `gitops-agent` naming the agent.

Health (`health.connectionStatus`, `health.harnessGitopsAgent.status`): CONNECTED / HEALTHY only
while some sandbox cluster (DIR/clusters/*.json, read over the kube emulator's HTTP API with the
creator's static token) runs the agent in the agent's namespace with the current token: its
Secret holds the current key, the Deployment `gitops-agent` is rolled out, and a running pod
of service account gitops-agent was created no earlier than the key (a pod reads its token at
start, so a pod older than a regenerated key holds the old one).
"""

import base64
import datetime
import glob
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = json.load(open(os.path.join(HERE, "harness_fields.json"), encoding="utf-8"))
IDENT_RE = re.compile(r"^[a-zA-Z_][0-9a-zA-Z_]{0,127}$")
AGENTS_RE = re.compile(r"^/gitops/api/v1/agents/?$")
AGENT_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)$")
DEPLOY_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/deploy\.yaml$")
SECRET_NAME = "gitops-agent"
TOKEN_KEY = "GITOPS_AGENT_TOKEN"
WORKLOAD = "gitops-agent"
GRPC_NOT_FOUND = 5


class Reply(Exception):
    """An answer other than a JSON 200: `body` is sent as is (bytes) or as JSON."""

    def __init__(self, status, body, content_type="application/json", headers=None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type  # None: no Content-Type header
        self.headers = headers or {}


def bad(message):
    return Reply(400, {"status": "ERROR", "code": "INVALID_REQUEST", "message": message})


def not_found(message):
    return Reply(404, {"error": message, "code": GRPC_NOT_FOUND, "message": message, "details": []})


def check_fields(obj, model, where):
    """Refuses a field the published model does not have (recursing into known sub-models)."""
    if not isinstance(obj, dict):
        raise bad("%s must be an object" % where)
    allowed = FIELDS["models"][model]
    for k, v in obj.items():
        if k not in allowed:
            raise bad("unknown field %s%s in %s (the %s model has: %s)"
                      % (where + "." if where != "body" else "", k, model, model, ", ".join(sorted(allowed))))
        if allowed[k] in FIELDS["models"]:
            check_fields(v, allowed[k], k if where == "body" else where + "." + k)


def check_query(q, call):
    allowed = set(FIELDS["queries"][call]["query"]) | {"routingId"}
    extra = sorted(set(q) - allowed)
    if extra:
        raise bad("unknown query parameter(s) %s" % ", ".join(extra))


def scope_of(q):
    account, org, project = (q.get(k, "") for k in ("accountIdentifier", "orgIdentifier", "projectIdentifier"))
    if not account:
        raise bad("accountIdentifier is required")
    if project and not org:
        raise bad("orgIdentifier is required when projectIdentifier is given")
    return (account, org, project)


def prefixed(ident, scope):
    """How the cluster API names an agent: `account.X`, `org.X`, or X at project level."""
    if scope[2]:
        return ident
    return ("org." if scope[1] else "account.") + ident


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Agents:
    def __init__(self, sandbox_dir):
        self.sandbox_dir = sandbox_dir
        self.records = {}  # (account, org, project, identifier) -> agent
        self.rotations = 0

    # ---- the emulated agent in the sandbox's clusters

    def _kube_get(self, rec, path):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (rec["port"], path), headers={
            "Accept": "application/json", "Authorization": "Bearer sandbox-%s" % rec["account"]})
        try:
            with urllib.request.urlopen(req, timeout=3) as r:
                return json.loads(r.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def running_token_ok(self, agent):
        """Whether a cluster runs this agent with its current key (see the module's essay)."""
        if not self.sandbox_dir:
            return False
        ns = agent["metadata"].get("namespace", "")
        want = base64.b64encode(agent["_key"].encode()).decode()
        for path in sorted(glob.glob(os.path.join(self.sandbox_dir, "clusters", "*.json"))):
            try:
                with open(path, encoding="utf-8") as f:
                    rec = json.load(f)
            except (OSError, ValueError):
                continue
            # clusters/ also holds each emulator's .seed.json and .auth.json
            if not isinstance(rec, dict) or not rec.get("port") or not rec.get("account"):
                continue
            secret = self._kube_get(rec, "/api/v1/namespaces/%s/secrets/%s" % (ns, SECRET_NAME))
            if not secret or (secret.get("data") or {}).get(TOKEN_KEY) != want:
                continue
            dep = self._kube_get(rec, "/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, WORKLOAD))
            if not dep:
                continue
            st, spec = dep.get("status") or {}, dep.get("spec") or {}
            desired = spec.get("replicas", 1)
            if (st.get("observedGeneration") != dep["metadata"].get("generation")
                    or st.get("updatedReplicas", 0) < desired or st.get("readyReplicas", 0) < desired):
                continue
            pods = self._kube_get(rec, "/api/v1/namespaces/%s/pods" % ns) or {}
            issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(agent["_issued"]))
            for pod in pods.get("items") or []:
                if ((pod.get("spec") or {}).get("serviceAccountName") == WORKLOAD
                        and (pod.get("status") or {}).get("phase") == "Running"
                        and (pod["metadata"].get("creationTimestamp") or "") >= issued):
                    return True
        return False

    def view(self, agent, credentials=False):
        out = {k: v for k, v in agent.items() if not k.startswith("_")}
        ok = self.running_token_ok(agent)
        out["health"] = {
            "connectionStatus": "CONNECTED" if ok else "DISCONNECTED",
            "harnessGitopsAgent": {"status": "HEALTHY" if ok else "UNHEALTHY"},
        }
        if ok:
            out["health"]["lastHeartbeat"] = now_iso()
        if credentials:
            out["credentials"] = {"privateKey": agent["_key"]}
        return {k: v for k, v in out.items() if v != ""}

    def new_key(self, agent):
        agent["_key"] = base64.b64encode(secrets.token_bytes(24)).decode()
        agent["_issued"] = time.time()

    # ---- the API

    def create(self, store, q, body):
        check_query(q, "create")
        check_fields(body, "V1Agent", "body")
        ident = body.get("identifier", "")
        if not isinstance(ident, str) or not IDENT_RE.match(ident):
            raise bad("identifier %r must match ^[a-zA-Z_][0-9a-zA-Z_]{0,127}$" % (ident,))
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise bad("name is required")
        if body.get("type") not in FIELDS["enums"]["V1AgentType"]:
            raise bad("type must be one of %s" % "|".join(FIELDS["enums"]["V1AgentType"]))
        meta = body.get("metadata") or {}
        if body["type"] == "MANAGED_ARGO_PROVIDER" and not meta.get("namespace"):
            raise bad("metadata.namespace is required")
        scope = scope_of(body)
        if q.get("routingId") not in (None, scope[0]):
            raise bad("routingId must be the account")
        key = scope + (ident,)
        with store.lock:
            if key in self.records:
                raise Reply(409, {"status": "ERROR", "code": "DUPLICATE_FIELD",
                                  "message": "agent with identifier %s already exists" % ident})
            stamp = now_iso()
            agent = {
                "accountIdentifier": scope[0], "orgIdentifier": scope[1], "projectIdentifier": scope[2],
                "identifier": ident, "name": body["name"], "type": body["type"],
                "description": body.get("description", ""), "tags": body.get("tags") or {},
                "metadata": dict(meta), "prefixedIdentifier": prefixed(ident, scope),
                "scope": "PROJECT" if scope[2] else ("ORG" if scope[1] else "ACCOUNT"),
                "createdAt": stamp, "lastModifiedAt": stamp,
            }
            self.new_key(agent)
            self.records[key] = agent
            store.agents.add(agent["prefixedIdentifier"])
        return self.view(agent, credentials=True)

    def find(self, store, ident, q):
        key = scope_of(q) + (ident,)
        with store.lock:
            agent = self.records.get(key)
        if agent is None:
            raise not_found("agent %s not found" % ident)
        return key, agent

    def deploy_yaml(self, store, ident, q):
        check_query(q, "deploy_yaml")
        _, agent = self.find(store, ident, q)
        ns = q.get("namespace", "")
        if not ns:
            raise bad("namespace is required")
        with store.lock:
            if q.get("privateKey"):
                # The token is not regenerated: the manifest carries the key it was given (an
                # agent with a key that is not its own does not connect).
                token = q["privateKey"]
            else:
                self.new_key(agent)
                self.rotations += 1
                token = agent["_key"]
        with open(os.path.join(HERE, "agent.yaml"), encoding="utf-8") as f:
            base = f.read()
        extra = (
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: Opaque\n"
            "data:\n  %s: %s\n"
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\n"
            "data:\n  AGENT_IDENTIFIER: %s\n  AGENT_ACCOUNT_ID: %s\n"
            % (SECRET_NAME, ns, TOKEN_KEY, base64.b64encode(token.encode()).decode(),
               SECRET_NAME, ns, json.dumps(ident), json.dumps(agent["accountIdentifier"])))
        raise Reply(200, (base + extra).encode(), "application/x-yaml")


def route(store, method, path, q, read_body):
    """Answers an agent call as (status, obj), or None when `path` is not one."""
    agents = store.agent_api
    m = DEPLOY_RE.match(path)
    if m and method == "GET":
        return agents.deploy_yaml(store, m.group(1), q)
    if AGENTS_RE.match(path) and method == "POST":
        return 200, agents.create(store, q, read_body())
    m = AGENT_RE.match(path)
    if m and method in ("GET", "DELETE"):
        check_query(q, "get" if method == "GET" else "delete")
        key, agent = agents.find(store, m.group(1), q)
        if method == "DELETE":
            with store.lock:
                agents.records.pop(key, None)
                store.agents.discard(agent["prefixedIdentifier"])
        return 200, agents.view(agent)
    return None


def sandbox_route(store, method, path):
    """`GET /_sandbox/agents`: every agent with its current key and the number of regenerations."""
    if method == "GET" and path == "/_sandbox/agents":
        with store.lock:
            items = [dict(store.agent_api.view(a, credentials=True)) for a in store.agent_api.records.values()]
            return {"agents": items, "rotations": store.agent_api.rotations}
    return None


def redact(q):
    """The query as the request log keeps it: never the private key."""
    return {k: ("<redacted>" if k == "privateKey" else v) for k, v in q.items()}


def redact_line(line):
    """An access-log line without the private key of a deploy.yaml URL."""
    return re.sub(r"(privateKey=)[^&\s]*", r"\1<redacted>", line)
