"""Harness GitOps repositories and applications, and the agent's sync, for the Harness stand-in.

Hooked into harness_api.py's router (`handle`).  Paths and query parameters are those of
Harness's published OpenAPI client (PyPI harness-open-api 2.0.1, api/repositories_api.py and
api/applications_api.py), which harness-go-sdk and terraform-provider-harness
(`harness_platform_gitops_repository`, `harness_platform_gitops_applications`) call too:

  POST   /gitops/api/v1/agents/{agent}/repositories?accountIdentifier&orgIdentifier&projectIdentifier&identifier
  GET    /gitops/api/v1/agents/{agent}/repositories/{identifier}?...
  DELETE /gitops/api/v1/agents/{agent}/repositories/{identifier}?...[&forceDelete]
  POST   /gitops/api/v1/agents/{agent}/applications?...&clusterIdentifier&repoIdentifier[&skipRepoValidation]
  GET    /gitops/api/v1/agents/{agent}/applications/{query.name}?...
  DELETE /gitops/api/v1/agents/{agent}/applications/{request.name}?...[&request.cascade]
  POST   /gitops/api/v1/agents/{agent}/applications/{request.name}/sync?...

Bodies are checked against the models' field names (harness_fields.json, generated from the
wheel by harness_fields_gen.py): an unknown field anywhere is a 400 naming it, so a typo cannot
pass.  Answers are Servicev1Repository / Servicev1Application.  A missing repository or
application: 404 with gRPC NotFound (code 5) in grpc-gateway's body (not confirmed offline).

The sync is real, made as the Argo CD inside the agent makes it:
  1. a token of the `argocd-application-controller` service account (TokenRequest on the
     management cluster's emulator, audience sts.amazonaws.com, as the kubelet projects it);
  2. AssumeRoleWithWebIdentity into the role of its `eks.amazonaws.com/role-arn` annotation,
     through the sandbox's STS (moto_sts_trust.py evaluates the OIDC provider and the trust);
  3. AssumeRole into the registered cluster's `config.roleARN` (argocd-k8s-auth aws --role-arn);
  4. a `k8s-aws-v1.` token for `config.awsClusterName` (a presigned GetCallerIdentity with
     `x-k8s-aws-id`), then the testing cluster's API over TLS with `tlsClientConfig.caData`:
     server-side apply of the guestbook manifests (guestbook/manifests.json) into the
     destination namespace, with Argo CD's tracking label `app.kubernetes.io/instance`.
Healthy: the Deployment's available replicas reach its replicas (the emulator rolls it out).
A broken hop makes the operation `Error` with the message Argo CD would show.

The sandbox has no DNS: the registered server (the EKS endpoint) is reached at the emulator whose
CA is the registration's caData (each emulator has its own CA).
"""

import base64
import datetime
import glob
import json
import os
import re
import ssl
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPOS_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/repositories/?$")
REPO_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/repositories/([^/]+)$")
APPS_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/applications/?$")
APP_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/applications/([^/]+)$")
SYNC_RE = re.compile(r"^/gitops/api/v1/agents/([^/]+)/applications/([^/]+)/sync$")
CONTROLLER_SA = "argocd-application-controller"
AUDIENCE = "sts.amazonaws.com"
HEALTH_TIMEOUT = 120.0

_fields = None


def fields():
    global _fields
    if _fields is None:
        with open(os.path.join(HERE, "harness_fields.json"), encoding="utf-8") as f:
            _fields = json.load(f)["models"]
    return _fields


def unknown_fields(value, model, where=""):
    """Field paths in `value` that the model `model` (swagger type) does not have."""
    m = re.match(r"^list\[(.+)\]$", model)
    if m:
        return [p for i, v in enumerate(value if isinstance(value, list) else [])
                for p in unknown_fields(v, m.group(1), "%s[%d]" % (where, i))]
    if model not in fields() or not isinstance(value, dict):
        return []
    out = []
    for k, v in value.items():
        path = "%s.%s" % (where, k) if where else k
        if k not in fields()[model]:
            out.append(path)
        else:
            out.extend(unknown_fields(v, fields()[model][k], path))
    return out


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Apps:
    """Repositories and applications, keyed by (account, org, project, agent, id)."""

    def __init__(self):
        self.repos = {}
        self.apps = {}


def state(store):
    if not hasattr(store, "gitops_apps"):
        store.gitops_apps = Apps()
    return store.gitops_apps


def handle(store, method, path, q, read_body, api):
    """(status, answer) for a repository/application call, or None for another path."""
    # the loop's variables are the route found (`break`), read below
    for rx, kind in ((REPOS_RE, "repos"), (REPO_RE, "repo"), (APPS_RE, "apps"), (APP_RE, "app"), (SYNC_RE, "sync")):  # noqa: B007
        m = rx.match(path)
        if m:
            break
    else:
        return None
    from urllib.parse import unquote

    agent = unquote(m.group(1))
    if agent not in store.agents:
        raise api.GatewayError(404, api.GRPC_UNKNOWN, "agent %s not found" % agent)
    scope = api.scope_key(agent, q)
    st = state(store)
    gone = lambda what: api.GatewayError(404, api.GRPC_NOT_FOUND, what)  # noqa: E731

    def checked(model):
        body = read_body()
        bad = unknown_fields(body, model)
        if bad:
            raise api.ApiError(400, "INVALID_REQUEST", "unknown field(s) in %s: %s" % (model, ", ".join(bad)))
        return body

    if kind == "repos" and method == "POST":
        ident = q.get("identifier", "")
        if not api.IDENT_RE.match(ident):
            raise api.ApiError(400, "INVALID_REQUEST", "identifier %r must match ^[a-zA-Z_][0-9a-zA-Z_]{0,127}$" % ident)
        body = checked("RepositoriesRepoCreateRequest")
        repo = body.get("repo")
        if not isinstance(repo, dict) or not isinstance(repo.get("repo"), str) or not repo["repo"]:
            raise api.ApiError(400, "INVALID_REQUEST", "repo.repo (the repository URL) is required")
        key = scope + (agent, ident)
        with store.lock:
            old = st.repos.get(key)
            if old is not None and not body.get("upsert") and old["repository"] != dict(old["repository"], **repo):
                raise api.ApiError(400, "INVALID_REQUEST", "existing repository spec is different; use upsert flag to force update")
            obj = {"accountIdentifier": scope[0], "orgIdentifier": scope[1], "projectIdentifier": scope[2],
                   "agentIdentifier": agent, "identifier": ident,
                   "repository": dict(repo, connectionState={"status": "Successful", "message": ""}),
                   "createdAt": old["createdAt"] if old else now(), "lastModifiedAt": now()}
            st.repos[key] = {k: v for k, v in obj.items() if v != ""}
            return 200, st.repos[key]
    if kind == "repo" and method in ("GET", "DELETE"):
        key = scope + (agent, unquote(m.group(2)))
        with store.lock:
            obj = st.repos.pop(key, None) if method == "DELETE" else st.repos.get(key)
        if obj is None:
            raise gone("repository %s not found" % key[-1])
        return 200, obj if method == "GET" else {}
    if kind == "apps" and method == "POST":
        body = checked("ApplicationsApplicationCreateRequest")
        app = body.get("application") or {}
        name = (app.get("metadata") or {}).get("name", "")
        if not re.match(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", name or ""):
            raise api.ApiError(400, "INVALID_REQUEST", "application.metadata.name %r is not a valid name" % name)
        spec = app.get("spec") or {}
        source, dest = spec.get("source") or {}, spec.get("destination") or {}
        if not source.get("repoURL"):
            raise api.ApiError(400, "INVALID_REQUEST", "application.spec.source.repoURL is required")
        cluster_id = q.get("clusterIdentifier", "")
        with store.lock:
            cluster = store.clusters.get(scope + (agent, cluster_id))
            repo = st.repos.get(scope + (agent, q.get("repoIdentifier", "")))
        if cluster is None:
            raise api.ApiError(400, "INVALID_REQUEST", "cluster %r is not registered with agent %s" % (cluster_id, agent))
        if repo is None and q.get("skipRepoValidation") != "true":
            raise api.ApiError(400, "INVALID_REQUEST", "repository %r is not registered with agent %s"
                               % (q.get("repoIdentifier", ""), agent))
        if dest.get("server") != cluster["cluster"]["server"]:
            # argo-cd util/argo/argo.go GetDestinationCluster, util/db/cluster.go GetCluster
            raise api.ApiError(400, "INVALID_REQUEST",
                               'error getting cluster by server "%s": rpc error: code = NotFound desc = cluster "%s" '
                               'not found' % (dest.get("server"), dest.get("server")))
        key = scope + (agent, name)
        with store.lock:
            old = st.apps.get(key)
            if old is not None and old["app"]["spec"] != spec and not body.get("upsert"):
                raise api.ApiError(400, "INVALID_REQUEST",
                                   "existing application spec is different, use upsert flag to force update")
            status = old["app"]["status"] if old and old["app"]["spec"] == spec else {
                "sync": {"status": "OutOfSync"}, "health": {"status": "Missing"}}
            obj = {"accountIdentifier": scope[0], "orgIdentifier": scope[1], "projectIdentifier": scope[2],
                   "agentIdentifier": agent, "name": name, "clusterIdentifier": cluster_id,
                   "repoIdentifier": q.get("repoIdentifier", ""),
                   "app": {"metadata": dict(app.get("metadata"), namespace=app["metadata"].get("namespace", "")),
                           "spec": spec, "status": status},
                   "createdAt": old["createdAt"] if old else now(), "lastModifiedAt": now()}
            st.apps[key] = obj
            return 200, _view(obj)
    if kind == "app" and method in ("GET", "DELETE"):
        key = scope + (agent, unquote(m.group(2)))
        with store.lock:
            obj = st.apps.pop(key, None) if method == "DELETE" else st.apps.get(key)
            view = _view(obj) if obj else None
        if obj is None:
            raise gone('applications.argoproj.io "%s" not found' % key[-1])
        return 200, view if method == "GET" else {}
    if kind == "sync" and method == "POST":
        checked("ApplicationsApplicationSyncRequest")
        key = scope + (agent, unquote(m.group(2)))
        with store.lock:
            obj = st.apps.get(key)
            if obj is None:
                raise gone('applications.argoproj.io "%s" not found' % key[-1])
            cluster = store.clusters.get(scope + (agent, obj["clusterIdentifier"]))
            status = obj["app"]["status"]
            if status.get("operationState", {}).get("phase") == "Running":
                raise api.ApiError(400, "INVALID_REQUEST", "another operation is already in progress")
            status["operationState"] = {"phase": "Running", "message": "", "startedAt": now()}
            view = _view(obj)
        sandbox_dir = os.path.dirname(os.path.abspath(store.log_path or "."))
        threading.Thread(target=_sync, args=(store, obj, cluster, sandbox_dir), daemon=True).start()
        return 200, view
    raise api.ApiError(405, "METHOD_NOT_ALLOWED", "%s not allowed on %s" % (method, path))


def _view(obj):
    return json.loads(json.dumps(obj))


# ------------------------------------------------------------------ the agent's sync


class SyncError(Exception):
    pass


def _finish(store, obj, ok, message, sync="Synced", health="Healthy"):
    with store.lock:
        status = obj["app"]["status"]
        status["operationState"] = dict(status.get("operationState", {}), phase="Succeeded" if ok else "Error",
                                        message=message, finishedAt=now())
        status["sync"] = {"status": sync}
        status["health"] = {"status": health}
        status["conditions"] = [] if ok else [{"type": "SyncError", "message": message}]
    store.log("application %s: %s" % (obj["name"], message))


def _set(store, obj, **fields):
    with store.lock:
        obj["app"]["status"].update(fields)


def _sync(store, obj, cluster, sandbox_dir):
    try:
        if cluster is None:
            raise SyncError("cluster %s is not registered" % obj["clusterIdentifier"])
        ns = obj["app"]["spec"].get("destination", {}).get("namespace") or "default"
        sync_to_cluster(sandbox_dir, cluster["cluster"], obj["name"], ns,
                        progress=lambda sync, health: _set(store, obj, sync={"status": sync},
                                                           health={"status": health}))
        _finish(store, obj, True, "successfully synced (all tasks run)")
    except SyncError as e:
        _finish(store, obj, False, str(e), sync="Unknown", health="Unknown")
    except Exception as e:  # the sandbox's own failure: say so
        _finish(store, obj, False, "sandbox agent error: %r" % (e,), sync="Unknown", health="Unknown")


def _http(url, method="GET", body=None, token=None, ctx=None, ctype="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=20, context=ctx) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"{}")
        except ValueError:
            return e.code, {"message": raw.decode("utf-8", "replace")}


def _records(sandbox_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(sandbox_dir, "clusters", "*.json"))):
        try:
            with open(path, encoding="utf-8") as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(rec, dict) and rec.get("port") and rec.get("account"):
            rec["_auth"] = path[:-len(".json")] + ".auth.json"
            out.append(rec)
    return out


def _controller(sandbox_dir):
    """The management cluster and namespace where the agent's application controller runs."""
    for rec in _records(sandbox_dir):
        base = "http://127.0.0.1:%d" % rec["port"]
        status, sas = _http(base + "/api/v1/serviceaccounts", token="sandbox-%s" % rec["account"])
        for sa in sas.get("items", []) if status == 200 else []:
            if sa["metadata"]["name"] == CONTROLLER_SA:
                return rec, base, sa
    raise SyncError("sandbox: no cluster runs service account %s (is the agent installed?)" % CONTROLLER_SA)


def _aws_error(e):
    err = e.response.get("Error", {})
    return "%s: %s" % (err.get("Code"), err.get("Message"))


def sync_to_cluster(sandbox_dir, cluster, app_name, namespace, progress=lambda s, h: None, manifests=None):
    """The agent's sync of `app_name` into the registered `cluster`; raises SyncError with the
    message Argo CD shows. Returns when the Deployment is available."""
    import boto3
    import botocore.exceptions

    rec, mgmt, sa = _controller(sandbox_dir)
    with open(rec["_auth"], encoding="utf-8") as f:
        endpoint = json.load(f)["aws_endpoint"]
    ns = sa["metadata"]["namespace"]
    # 1. the projected token (the kubelet's TokenRequest)
    status, tr = _http("%s/api/v1/namespaces/%s/serviceaccounts/%s/token" % (mgmt, ns, CONTROLLER_SA), "POST",
                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                        "spec": {"audiences": [AUDIENCE], "expirationSeconds": 600}},
                       token="sandbox-%s" % rec["account"])
    if status != 201 and status != 200:
        raise SyncError("sandbox: TokenRequest for %s failed: %s" % (CONTROLLER_SA, tr.get("message")))
    token = tr["status"]["token"]
    agent_role = (sa["metadata"].get("annotations") or {}).get("eks.amazonaws.com/role-arn")
    region = rec["region"]
    client = lambda creds=None: boto3.session.Session(  # noqa: E731
        aws_access_key_id=creds["AccessKeyId"] if creds else "anonymous",
        aws_secret_access_key=creds["SecretAccessKey"] if creds else "anonymous",
        aws_session_token=creds["SessionToken"] if creds else None,
        region_name=region).client("sts", endpoint_url=endpoint)
    config = cluster.get("config", {})
    server = cluster["server"]
    cluster_name = config.get("awsClusterName", "")
    prefix = ("failed to get cluster info for \"%s\": error synchronizing cache state : failed to sync cluster %s: "
              "failed to load initial state of resource Deployment.apps: Get \"%s/api?timeout=32s\": getting credentials: exec: "
              "executable argocd-k8s-auth failed with exit code 20 (stderr: " % (server, server, server))
    if not agent_role:
        raise SyncError(prefix + "WebIdentityErr: failed to retrieve credentials: no role ARN: service account "
                        "%s/%s has no eks.amazonaws.com/role-arn annotation)" % (ns, CONTROLLER_SA))
    # 2. web identity into the agent role (the AWS SDK's provider)
    try:
        agent = client().assume_role_with_web_identity(RoleArn=agent_role, RoleSessionName="argocd-k8s-auth",
                                                       WebIdentityToken=token)["Credentials"]
    except botocore.exceptions.ClientError as e:
        raise SyncError(prefix + "WebIdentityErr: failed to retrieve credentials\ncaused by: %s)" % _aws_error(e))
    # 3. the Deployer (argocd-k8s-auth aws --role-arn)
    try:
        deployer = client(agent).assume_role(RoleArn=config.get("roleARN", ""),
                                             RoleSessionName="argocd-k8s-auth")["Credentials"]
    except botocore.exceptions.ClientError as e:
        raise SyncError(prefix + "%s)" % _aws_error(e))
    # 4. the EKS token: presigned GetCallerIdentity with x-k8s-aws-id (aws-iam-authenticator)
    sts = client(deployer)

    def add_header(request, **_):
        request.headers["x-k8s-aws-id"] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    eks_token = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    target = _resolve(sandbox_dir, deployer, endpoint, region, server, config)
    if isinstance(target, str):
        raise SyncError("failed to get cluster info for \"%s\": Get \"%s/version?timeout=32s\": %s" % (server, server, target))
    base, ctx = target
    manifests = manifests or _manifests()
    progress("OutOfSync", "Missing")
    for obj in manifests:
        obj = json.loads(json.dumps(obj))
        obj["metadata"]["namespace"] = namespace
        obj["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = app_name
        plural = {"Deployment": "apis/apps/v1", "Service": "api/v1"}[obj["kind"]]
        url = "%s/%s/namespaces/%s/%ss/%s?fieldManager=argocd-controller&force=true" % (
            base, plural, namespace, obj["kind"].lower(), obj["metadata"]["name"])
        status, answer = _http(url, "PATCH", obj, token=eks_token, ctx=ctx, ctype="application/apply-patch+yaml")
        if status == 401:
            raise SyncError("failed to get cluster info for \"%s\": the server has asked for the client to provide "
                            "credentials" % server)
        if status >= 300:
            raise SyncError("one or more objects failed to apply, reason: %s" % answer.get("message", status))
    progress("Synced", "Progressing")
    deadline = time.monotonic() + HEALTH_TIMEOUT
    name = next(o["metadata"]["name"] for o in manifests if o["kind"] == "Deployment")
    while time.monotonic() < deadline:
        status, d = _http("%s/apis/apps/v1/namespaces/%s/deployments/%s" % (base, namespace, name),
                          token=eks_token, ctx=ctx)
        st = d.get("status", {}) if status == 200 else {}
        if status == 200 and st.get("availableReplicas", 0) >= d["spec"].get("replicas", 1):
            progress("Synced", "Healthy")
            return
        time.sleep(0.2)
    raise SyncError("Deployment %s/%s: health Progressing: not available after %ds" % (namespace, name, HEALTH_TIMEOUT))


def _manifests():
    with open(os.path.join(HERE, "guestbook", "manifests.json"), encoding="utf-8") as f:
        return json.load(f)["items"]


def _resolve(sandbox_dir, creds, endpoint, region, server, config):
    """The sandbox's DNS and TLS for the registered server: (URL, SSL context), or client-go's
    error text. The EKS endpoint names the emulator of the cluster that EKS reports at that
    endpoint; `caData` must be the CA EKS reports for it (the sandbox's EKS CA is moto's, not the
    emulator's serving CA, so the connection itself trusts the emulator's CA)."""
    import boto3

    session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name=region)
    eks = session.client("eks", endpoint_url=endpoint)
    account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    for rec in _records(sandbox_dir):
        if rec["account"] != account or rec["region"] != region or not rec.get("tls_port"):
            continue
        try:
            cluster = eks.describe_cluster(name=rec["name"])["cluster"]
        except Exception:
            continue
        if cluster.get("endpoint") != server:
            continue
        if (config.get("tlsClientConfig") or {}).get("caData") != cluster.get("certificateAuthority", {}).get("data"):
            return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        ctx = ssl.create_default_context(cadata=base64.b64decode(rec["ca_data"]).decode())
        return "https://127.0.0.1:%d" % rec["tls_port"], ctx
    host = re.sub(r"^https?://", "", server).split("/")[0]
    return "dial tcp: lookup %s: no such host" % host


# ------------------------------------------------------------------ Argo CD Applications (--to argocd)
#
# The Argo CD inside the agent also reconciles `Application` objects (argoproj.io/v1alpha1) in its
# namespace of the management cluster. This controller does it with the same sync: every second it
# lists the Applications of each emulator that serves the CRD, and syncs one whose spec changed
# (automated sync: `spec.syncPolicy.automated`) or that asks for an `operation`, through the
# cluster Secret (`argocd.argoproj.io/secret-type: cluster`) whose `server` is the destination:
# `config.awsAuthConfig.roleARN`/`clusterName` and `tlsClientConfig.caData`, as `register --to
# argocd` writes it. Status is written as Argo CD writes it (the whole object: Argo CD's CRD has no
# status subresource): `status.sync.status`, `status.health.status`, `status.operationState`.

APPS_PATH = "/apis/argoproj.io/v1alpha1/applications"
CLUSTER_LABEL = "argocd.argoproj.io/secret-type"


def _admin(rec):
    return "http://127.0.0.1:%d" % rec["port"], "sandbox-%s" % rec["account"]


def _b64(s):
    return base64.b64decode(s or "").decode("utf-8", "replace")


def _cluster_secret(rec, ns, server):
    base, token = _admin(rec)
    status, secrets = _http("%s/api/v1/namespaces/%s/secrets?labelSelector=%s%%3Dcluster" % (base, ns, CLUSTER_LABEL),
                            token=token)
    for s in secrets.get("items", []) if status == 200 else []:
        data = s.get("data") or {}
        if _b64(data.get("server")).rstrip("/") == (server or "").rstrip("/"):
            config = json.loads(_b64(data.get("config")) or "{}")
            aws = config.get("awsAuthConfig") or {}
            return {"server": _b64(data.get("server")),
                    "config": {"awsClusterName": aws.get("clusterName", ""), "roleARN": aws.get("roleARN", ""),
                               "tlsClientConfig": config.get("tlsClientConfig") or {}}}
    return None


def _write_status(rec, app, **status):
    base, token = _admin(rec)
    meta = app["metadata"]
    url = "%s/apis/argoproj.io/v1alpha1/namespaces/%s/applications/%s" % (base, meta["namespace"], meta["name"])
    for _ in range(5):
        code, cur = _http(url, token=token)
        if code != 200:
            return
        cur.setdefault("status", {}).update(status)
        if status.get("operationState", {}).get("phase") not in (None, "Running"):
            cur.pop("operation", None)
        code, _ = _http(url, "PUT", cur, token=token)
        if code != 409:
            return


def _sync_application(sandbox_dir, rec, app):
    meta, spec = app["metadata"], app.get("spec") or {}
    dest = spec.get("destination") or {}
    started = now()
    op = lambda phase, message="": {"phase": phase, "message": message, "startedAt": started}  # noqa: E731
    _write_status(rec, app, operationState=op("Running"))
    try:
        cluster = _cluster_secret(rec, meta["namespace"], dest.get("server"))
        if cluster is None:
            raise SyncError('error getting cluster by server "%s": rpc error: code = NotFound desc = cluster "%s" '
                            'not found' % (dest.get("server"), dest.get("server")))
        sync_to_cluster(sandbox_dir, cluster, meta["name"], dest.get("namespace") or "default",
                        progress=lambda sync, health: _write_status(rec, app, sync={"status": sync},
                                                                    health={"status": health}))
        _write_status(rec, app, sync={"status": "Synced"}, health={"status": "Healthy"}, conditions=[],
                      operationState=dict(op("Succeeded", "successfully synced (all tasks run)"), finishedAt=now()))
    except SyncError as e:
        _write_status(rec, app, sync={"status": "Unknown"}, health={"status": "Unknown"},
                      conditions=[{"type": "SyncError", "message": str(e)}],
                      operationState=dict(op("Error", str(e)), finishedAt=now()))
    except Exception as e:  # the sandbox's own failure: say so
        _write_status(rec, app, operationState=dict(op("Error", "sandbox agent error: %r" % (e,)), finishedAt=now()))


def start_controller(sandbox_dir, interval=1.0):
    """Reconciles Argo CD Applications in every emulator of `sandbox_dir` (a daemon thread)."""
    handled = {}

    def loop():
        while True:
            for rec in _records(sandbox_dir):
                try:
                    base, token = _admin(rec)
                    status, apps = _http(base + APPS_PATH, token=token)
                except OSError:
                    continue
                for app in apps.get("items", []) if status == 200 else []:
                    meta = app["metadata"]
                    key = (rec["account"], rec["name"], meta["namespace"], meta["name"], meta.get("uid"))
                    wanted = json.dumps(app.get("spec"), sort_keys=True)
                    automated = "automated" in ((app.get("spec") or {}).get("syncPolicy") or {})
                    running = (app.get("status") or {}).get("operationState", {}).get("phase") == "Running"
                    if running or (handled.get(key) == wanted and not app.get("operation")):
                        continue
                    if not automated and not app.get("operation"):
                        continue
                    handled[key] = wanted
                    threading.Thread(target=_sync_application, args=(sandbox_dir, rec, app), daemon=True).start()
            time.sleep(interval)

    threading.Thread(target=loop, daemon=True).start()
