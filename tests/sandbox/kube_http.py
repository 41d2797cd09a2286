"""The HTTP layer: routing, content negotiation, authentication and authorization (kubeauth.py),
the verbs' requests and responses, and watches.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import re
import socket
import time
import traceback
import urllib.parse
import uuid

from kube_admission import SAMissing
from kube_common import LOG, STOP, VERSION_INFO, deep, jdump, now_iso
from kube_errors import ApiError, _details, err_bad_request, err_forbidden, err_generic, err_internal, err_not_found
from kube_openapi import api_groups, api_resource_list, openapi_gvs, openapi_v3_doc
from kube_protobuf import decode_k8s_protobuf
from kube_resources import POD_RT, RT, RT_BY_GV_PLURAL, SA_RT
from kube_selectors import field_match, label_match, parse_field_selector, parse_label_selector
from kube_store import Cluster
from kube_tables import make_table

PATCH_TYPES = {"application/json-patch+json": "json", "application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic", "application/apply-patch+yaml": "apply"}


def route(path: str):
    """-> (rt, namespace, name, subresource) or None."""
    segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
    if segs[0] == "api":
        if len(segs) < 3 or segs[1] != "v1":
            return None
        gv, rest = "v1", segs[2:]
    elif segs[0] == "apis":
        if len(segs) < 4:
            return None
        gv, rest = f"{segs[1]}/{segs[2]}", segs[3:]
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        ns, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3 or any(s == "" for s in rest):
        return None
    rt = RT_BY_GV_PLURAL.get((gv, rest[0]))
    if rt is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if rt.namespaced and ns is None and name is not None:
        return None
    if not rt.namespaced and ns is not None:
        return None
    return rt, ns, name, sub


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubeapi-emulator/1.0"
    cluster: Cluster = None  # set by make_server

    def log_message(self, fmt, *args):  # silence default stderr logging
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def do_PUT(self):
        self._handle()

    def do_PATCH(self):
        self._handle()

    def do_DELETE(self):
        self._handle()

    # ---- plumbing ----
    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, code: int, body: bytes, ctype: str = "application/json", warnings=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for w in warnings:
            self.send_header("Warning", '299 - ' + json.dumps(w))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._code = code
        self._size = len(body)

    def _send_json(self, code: int, obj, warnings=()):
        self._send(code, jdump(obj), "application/json", warnings)

    def _handle(self):
        start = time.monotonic()
        self._code, self._size = 0, 0
        self._note = ""
        try:
            self._body = self._read_body()
            self._dispatch()
        except ApiError as exc:
            self._send_json(exc.code, exc.status())
            self._note = f"{exc.reason}: {exc.message}"[:300] + (f" ({exc.log_detail})" if exc.log_detail
                                                                  and exc.log_detail != exc.message else "")
        except SAMissing as exc:
            err = err_forbidden(POD_RT, "", str(exc))
            self._send_json(err.code, err.status())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            self._note = "client went away"
        except Exception:
            tb = traceback.format_exc()
            LOG(f"ERROR handling {self.command} {self.path}\n{tb}")
            try:
                err = err_internal(tb.strip().splitlines()[-1])
                self._send_json(500, err.status())
            except Exception:
                self.close_connection = True
        ms = (time.monotonic() - start) * 1000
        LOG(f"{self.client_address[0]} {self.command} {self.path} {self._code} {self._size}B {ms:.1f}ms"
            + (f" [{self._note}]" if self._note else ""))

    def _params(self) -> dict:
        q = urllib.parse.urlsplit(self.path).query
        return {k: v[-1] for k, v in urllib.parse.parse_qs(q, keep_blank_values=True).items()}

    def _accepts_json(self) -> bool:
        acc = self.headers.get("Accept") or ""
        if not acc.strip():
            return True
        for part in acc.split(","):
            mt = part.split(";")[0].strip().lower()
            if mt in ("application/json", "*/*", "application/*", "application/yaml"):
                return True
        return False

    def _wants_table(self) -> bool:
        acc = self.headers.get("Accept") or ""
        return any("as=Table" in part for part in acc.split(","))

    def _decode_body(self):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype == "application/vnd.kubernetes.protobuf":
            return decode_k8s_protobuf(self._body)
        if ctype in ("application/json", "application/yaml", "text/plain", "*/*", ""):
            try:
                return json.loads(self._body.decode("utf-8") or "null")
            except (ValueError, UnicodeDecodeError) as exc:
                if ctype == "application/yaml":
                    raise ApiError(415, "UnsupportedMediaType", "this emulator only understands JSON bodies "
                                                                "(YAML is not supported): " + str(exc))
                raise err_bad_request(f"couldn't get version/kind; json parse error: {exc}")
        raise ApiError(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types include: "
                       "application/json, application/yaml, application/vnd.kubernetes.protobuf")

    # ---- dispatch ----
    def _dispatch(self):
        path = urllib.parse.urlsplit(self.path).path
        method = self.command
        c = self.cluster
        # The cluster's OIDC issuer: on EKS a public endpoint beside the API (kubeauth.py).
        if path in ("/.well-known/openid-configuration", "/openid/v1/jwks", "/keys"):
            auth = c.authenticator()
            doc = auth.discovery() if path.startswith("/.well-known") else auth.jwks()
            return self._only_get(method) or self._send_json(200, doc)
        self._user = None
        if c.auth is not None and c.auth.enforce and path not in ("/healthz", "/livez", "/readyz", "/version"):
            import kubeauth

            try:
                self._user = c.auth.authenticate(self.headers.get("Authorization") or "", c.config_map)
            except kubeauth.Unauthorized as exc:
                raise ApiError(401, "Unauthorized", "Unauthorized", log_detail=f"authentication failed: {exc}")
        if path in ("/version", "/version/"):
            return self._only_get(method) or self._send_json(200, VERSION_INFO)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._only_get(method) or self._send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/api" or path == "/api/":
            return self._only_get(method) or self._send_json(200, {
                "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.server.server_address[0]}:"
                                                                 f"{self.server.server_address[1]}"}]})
        if path == "/apis" or path == "/apis/":
            return self._only_get(method) or self._send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                                                   "groups": api_groups()})
        if path == "/api/v1":
            return self._only_get(method) or self._send_json(200, api_resource_list("v1"))
        m = re.match(r"^/apis/([^/]+)(?:/([^/]+))?/?$", path)
        if m:
            grp = next((g for g in api_groups() if g["name"] == m.group(1)), None)
            if grp is None or (m.group(2) and m.group(2) not in [v["version"] for v in grp["versions"]]):
                raise err_generic(404)
            if not m.group(2):
                return self._only_get(method) or self._send_json(200, dict(grp, kind="APIGroup", apiVersion="v1"))
            return self._only_get(method) or self._send_json(200, api_resource_list(f"{m.group(1)}/{m.group(2)}"))
        if path == "/openapi/v3":
            index = {}
            for gv in openapi_gvs():
                key = ("api/" if "/" not in gv else "apis/") + gv
                h = hashlib.sha256(jdump(openapi_v3_doc(gv))).hexdigest()[:32].upper()
                index[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={h}"}
            return self._only_get(method) or self._send_json(200, {"paths": index})
        if path.startswith("/openapi/v3/"):
            key = path[len("/openapi/v3/"):].strip("/")
            gv = key[4:] if key.startswith("api/") else key[5:] if key.startswith("apis/") else ""
            if gv not in openapi_gvs():
                raise err_generic(404)
            return self._only_get(method) or self._send_json(200, openapi_v3_doc(gv))
        r = route(path)
        if r is None:
            raise err_generic(404)
        rt, ns, name, sub = r
        params = self._params()
        user = self._user
        if user is not None and not user.admin and rt.kind not in ("SelfSubjectReview", "SelfSubjectAccessReview"):
            verb = {"GET": "list" if name is None else "get", "POST": "create", "PUT": "update",
                    "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}.get(method, method.lower())
            if method == "GET" and params.get("watch") in ("true", "1"):
                verb = "watch"
            raise err_forbidden(rt, name or "", c.auth.forbidden_message(user, verb, rt, ns, name))
        if rt is SA_RT and sub == "token" and name is not None:
            return self._token_request(ns, name)
        if rt.kind == "SelfSubjectReview":
            if method != "POST" or name is not None:
                raise err_generic(405)
            info = user.view() if user is not None else {"username": "system:anonymous",
                                                          "groups": ["system:unauthenticated"]}
            return self._send_json(201, {"kind": rt.kind, "apiVersion": rt.gv, "metadata": {"creationTimestamp": None},
                                         "status": {"userInfo": info}})
        if not self._accepts_json():
            raise err_generic(406, "only the following media types are accepted: application/json, "
                                   "application/yaml")
        dry = params.get("dryRun") == "All"
        validation = params.get("fieldValidation") or "Warn"
        if validation not in ("Strict", "Warn", "Ignore"):
            raise err_bad_request(f"fieldValidation parameter unsupported: {validation}")
        if sub is not None:
            allowed = {"status"} if rt.status else set()
            if rt.scale:
                allowed.add("scale")
            if rt is POD_RT:
                allowed.add("log")
            if sub not in allowed:
                raise err_generic(404)
            if sub == "log" and method != "GET":
                raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on pods/log",
                               _details(rt))
        if rt.kind == "SelfSubjectAccessReview":
            if method != "POST" or name is not None:
                raise err_generic(405)
            body = self._decode_body()
            if not isinstance(body, dict):
                raise err_bad_request("invalid SelfSubjectAccessReview")
            if user is None or user.admin:
                verdict = {"allowed": True, "reason": "the emulator allows everything" if user is None else
                           "the identity is a cluster admin (system:masters or AmazonEKSClusterAdminPolicy)"}
            else:
                verdict = {"allowed": False}
            body = dict(body, kind=rt.kind, apiVersion=rt.gv, metadata={"creationTimestamp": None}, status=verdict)
            return self._send_json(201, body)

        if method == "GET":
            if name is None:
                if params.get("watch") in ("true", "1"):
                    return self._watch(rt, ns, params)
                label_reqs = parse_label_selector(params.get("labelSelector", ""))
                field_terms = parse_field_selector(params.get("fieldSelector", ""), rt)
                with c.lock:
                    items = [o for o in c.list_objs(rt, ns)
                             if label_match(label_reqs, o["metadata"].get("labels")) and field_match(field_terms, o)]
                    rv = c.rv
                if self._wants_table():
                    return self._send_json(200, make_table(rt, items, params.get("includeObject", "Metadata"), rv))
                return self._send_json(200, {"kind": rt.kind + "List", "apiVersion": rt.gv,
                                             "metadata": {"resourceVersion": str(rv)}, "items": items})
            with c.lock:
                obj = c.get(rt, ns, name)
                rv = c.rv
                if obj is None:
                    raise err_not_found(rt, name)
                if sub == "scale":
                    obj = c._scale_view(rt, obj)
            if sub == "log":
                return self._send(200, b"", "text/plain")
            if self._wants_table() and sub is None:
                return self._send_json(200, make_table(rt, [obj], params.get("includeObject", "Metadata"), rv))
            return self._send_json(200, obj)
        if method == "POST":
            if name is not None:
                raise ApiError(405, "MethodNotAllowed",
                               f'POST is not supported on resources of kind "{rt.qualified}"', _details(rt))
            if rt.namespaced and ns is None:
                raise err_generic(405)
            obj, warns = c.create(rt, ns, self._decode_body(), dry_run=dry, validation=validation)
            return self._send_json(201, obj, warns)
        if method == "PUT":
            if name is None:
                raise err_generic(405)
            obj, warns = c.update(rt, ns, name, self._decode_body(), sub=sub, dry_run=dry, validation=validation)
            return self._send_json(200, obj, warns)
        if method == "PATCH":
            if name is None:
                raise err_generic(405)
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            ptype = PATCH_TYPES.get(ctype)
            if ptype is None:
                raise ApiError(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types "
                               "include: application/json-patch+json, application/merge-patch+json, "
                               "application/apply-patch+yaml, application/strategic-merge-patch+json")
            if ptype == "apply" and not params.get("fieldManager"):
                raise err_bad_request("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: "
                                      "is required for apply patch")
            obj, warns, code = c.patch(rt, ns, name, ptype, self._body, sub=sub, dry_run=dry,
                                       validation=validation, force=params.get("force") == "true")
            return self._send_json(code, obj, warns)
        if method == "DELETE":
            opts = {}
            if self._body.strip():
                try:
                    opts = json.loads(self._body)
                except ValueError as exc:
                    raise err_bad_request(f"invalid DeleteOptions: {exc}")
                if not isinstance(opts, dict):
                    opts = {}
            if params.get("propagationPolicy"):
                opts["propagationPolicy"] = params["propagationPolicy"]
            if name is None:
                label_reqs = parse_label_selector(params.get("labelSelector", ""))
                field_terms = parse_field_selector(params.get("fieldSelector", ""), rt)
                if "deletecollection" not in rt.verbs:
                    raise err_generic(405)
                return self._send_json(200, c.delete_collection(rt, ns, label_reqs, field_terms, opts, dry))
            if sub is not None:
                raise err_generic(405)
            return self._send_json(200, c.delete(rt, ns, name, opts, dry_run=dry))
        raise err_generic(405)

    def _token_request(self, ns: str, name: str):
        """TokenRequest (`kubectl create token`): a JWT for the service account, stored nowhere."""
        if self.command != "POST":
            raise err_generic(405)
        c = self.cluster
        with c.lock:
            sa = deep(c.get(SA_RT, ns, name))
        if sa is None:
            raise err_not_found(SA_RT, name)
        body = self._decode_body() or {}
        spec = body.get("spec") or {}
        seconds = int(spec.get("expirationSeconds") or 3600)
        if seconds < 600:
            raise ApiError(422, "Invalid", f'TokenRequest.authentication.k8s.io "{name}" is invalid: '
                                           f'spec.expirationSeconds: Invalid value: {seconds}: may not specify a '
                                           f'duration less than 10 minutes',
                           {"name": name, "group": "authentication.k8s.io", "kind": "TokenRequest"})
        token, exp = c.authenticator().service_account_token(ns, sa, list(spec.get("audiences") or []), seconds)
        out = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
               "metadata": {"name": name, "namespace": ns, "creationTimestamp": None},
               "spec": {"audiences": list(spec.get("audiences") or [c.auth.issuer]), "expirationSeconds": seconds,
                        "boundObjectRef": spec.get("boundObjectRef")},
               "status": {"token": token, "expirationTimestamp": now_iso(exp)}}
        return self._send_json(201, out)

    def _only_get(self, method):
        if method not in ("GET", "HEAD"):
            raise err_generic(405)
        return None

    # ---- watch ----
    def _client_gone(self) -> bool:
        import select
        try:
            r, _, _ = select.select([self.connection], [], [], 0)
            if r and hasattr(self.connection, "pending"):  # TLS: no MSG_PEEK; a watcher sends nothing
                try:
                    return self.connection.recv(1) == b""
                except (BlockingIOError, InterruptedError):
                    return False
            if r:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True
        return False

    def _chunk(self, data: bytes):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _watch(self, rt: RT, ns, params):
        c = self.cluster
        label_reqs = parse_label_selector(params.get("labelSelector", ""))
        field_terms = parse_field_selector(params.get("fieldSelector", ""), rt)
        rv_param = params.get("resourceVersion", "")
        send_initial = params.get("sendInitialEvents") == "true"
        bookmarks = params.get("allowWatchBookmarks") == "true"
        try:
            timeout = float(params.get("timeoutSeconds") or 1800)
        except ValueError:
            raise err_bad_request("invalid timeoutSeconds")

        def matches(o):
            return ((ns is None or not rt.namespaced or o["metadata"].get("namespace") == ns)
                    and label_match(label_reqs, o["metadata"].get("labels")) and field_match(field_terms, o))

        expired = None
        with c.lock:
            initial = []
            if rv_param in ("", "0") or send_initial:
                initial = [o for o in c.list_objs(rt, ns) if matches(o)]
                last = c.rv
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    raise err_bad_request(f"invalid resource version: {rv_param}")
                if last < c.ev_floor:
                    expired = {"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": f"too old resource version: {last} ({c.ev_floor + 1})", "reason": "Expired",
                        "code": 410}}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._code = 200
        self._note = "watch"
        sent = 0
        try:
            if expired:
                self._chunk(jdump(expired) + b"\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            for o in initial:
                self._chunk(jdump({"type": "ADDED", "object": o}) + b"\n")
                sent += 1
            if send_initial and bookmarks:
                self._chunk(jdump({"type": "BOOKMARK", "object": {
                    "kind": rt.kind, "apiVersion": rt.gv,
                    "metadata": {"resourceVersion": str(last),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}}) + b"\n")
            deadline = time.monotonic() + timeout
            while not STOP.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with c.lock:
                    if c.rv <= last:
                        c.watch_cond.wait(min(0.5, remaining))
                    if last < c.ev_floor:
                        evs = None
                    else:
                        evs = [e for e in c.events_since(last) if e[1] == rt.key]
                        last = c.rv
                if evs is None:
                    self._chunk(jdump({"type": "ERROR", "object": {
                        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": "too old resource version", "reason": "Expired", "code": 410}}) + b"\n")
                    break
                for _rv, _key, _ns, etype, obj in evs:
                    if matches(obj):
                        self._chunk(jdump({"type": etype, "object": obj}) + b"\n")
                        sent += 1
                if not evs and self._client_gone():
                    self.close_connection = True
                    self._note = f"watch, {sent} events, client closed"
                    return
            self.wfile.write(b"0\r\n\r\n")
            self._note = f"watch, {sent} events"
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
            self._note = f"watch, {sent} events, client closed"


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False
    tls = None  # an ssl.SSLContext: the handshake runs in the request's own thread

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except OSError:
                return
        super().finish_request(request, client_address)


def make_server(host: str, cluster: Cluster) -> Server:
    handler = type("BoundHandler", (Handler,), {"cluster": cluster})
    return Server((host, 0), handler)
