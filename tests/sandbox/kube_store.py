"""The cluster's store and the semantics of the API verbs: objects, the global resourceVersion,
events for watches, timers; create, update, patch, delete, deletecollection.
"""
from __future__ import annotations

import bisect
import heapq
import json
import threading
import time
import uuid

from kube_admission import SAMissing, admit_pod, apply_defaults, validate_object
from kube_common import _spec_of, _strip_rv, deep, jdump, now_iso, rand_suffix
from kube_conform import conform
from kube_controllers import Controllers, _owner
from kube_errors import (
    ApiError,
    FieldError,
    _details,
    err_already_exists,
    err_bad_request,
    err_conflict,
    err_forbidden,
    err_generic,
    err_invalid,
    err_not_found,
)
from kube_patch import PatchError, json_patch, merge_patch, strategic_merge
from kube_resources import (
    CM_RT,
    CRD_RT,
    DEPLOY_RT,
    NODE_RT,
    NS_RT,
    POD_RT,
    RESOURCES,
    RS_RT,
    RT,
    SA_RT,
    STS_RT,
    register_crd,
)
from kube_selectors import field_match, label_match, selector_string

FAKE_CA_PEM = ("-----BEGIN CERTIFICATE-----\n"
               "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrOHMtZW11bGF0b3It\n"
               "Y2FAMTcwMDAwMDAwMDAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAwMDBaMCMxITAfBgNV\n"
               "BAMMGGs4cy1lbXVsYXRvci1jYUAxNzAwMDAwMDAwMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n"
               "-----END CERTIFICATE-----\n")


class Cluster(Controllers):
    def __init__(self, rollout_delay: float = 0.5):
        self.lock = threading.RLock()
        self.watch_cond = threading.Condition(self.lock)
        self.timer_cond = threading.Condition(self.lock)
        self.rv = 1000
        self.objs: dict[str, dict] = {rt.key: {} for rt in RESOURCES}
        self.ev_rvs: list[int] = []
        self.events: list[tuple] = []
        self.ev_floor = self.rv
        self.timers: list = []
        self.pending: dict = {}  # (rt.key, ns, name) -> generation whose rollout is not finished yet
        self.timer_seq = 0
        self.delay = max(0.0, rollout_delay)
        self.node_name = "ip-192-168-10-20.ec2.internal"
        self.node_ip = "192.168.10.20"
        self.auth = None  # kubeauth.Auth, made by main() (or on the first TokenRequest)

    def authenticator(self):
        if self.auth is None:
            import kubeauth

            self.auth = kubeauth.Auth(None)
        return self.auth

    def config_map(self, ns: str, name: str):
        with self.lock:
            return deep(self.get(CM_RT, ns, name))

    # ---- low level storage (call with the lock held) ----
    def get(self, rt: RT, ns: str | None, name: str):
        return self.objs[rt.key].get((ns or "" if rt.namespaced else "", name))

    def list_objs(self, rt: RT, ns: str | None = None) -> list:
        items = self.objs[rt.key]
        if ns is None or not rt.namespaced:
            keys = sorted(items)
        else:
            keys = sorted(k for k in items if k[0] == ns)
        return [items[k] for k in keys]

    def _event(self, rt: RT, etype: str, obj: dict):
        self.ev_rvs.append(self.rv)
        self.events.append((self.rv, rt.key, (obj["metadata"].get("namespace") or ""), etype, obj))
        if len(self.events) > 20000:
            del self.events[:5000]
            del self.ev_rvs[:5000]
            self.ev_floor = self.ev_rvs[0] - 1
        self.watch_cond.notify_all()

    def _store(self, rt: RT, obj: dict, etype: str) -> dict:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        meta = obj["metadata"]
        self.objs[rt.key][(meta.get("namespace", "") if rt.namespaced else "", meta["name"])] = obj
        self._event(rt, etype, obj)
        if rt is CRD_RT:
            served = register_crd(obj)
            if served is not None:
                self.objs.setdefault(served.key, {})
        return obj

    def _remove(self, rt: RT, ns: str, name: str):
        obj = self.objs[rt.key].pop((ns if rt.namespaced else "", name), None)
        if obj is None:
            return None
        self.pending.pop((rt.key, obj["metadata"].get("namespace"), name), None)
        self.rv += 1
        obj = dict(obj)
        obj["metadata"] = dict(obj["metadata"], resourceVersion=str(self.rv))
        self._event(rt, "DELETED", obj)
        return obj

    def events_since(self, rv: int) -> list:
        i = bisect.bisect_right(self.ev_rvs, rv)
        return self.events[i:]

    def schedule(self, delay: float, fn, *args):
        self.timer_seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.timer_seq, fn, args))
        self.timer_cond.notify()

    # ---- typed decoding / validation helpers ----
    def typed(self, rt: RT, obj, validation: str, warnings: list, patch_mode: bool = False) -> dict:
        if not isinstance(obj, dict):
            if patch_mode:
                raise err_invalid(None, "", [FieldError("Invalid", "patch", json.dumps(obj),
                                                        "json: cannot unmarshal into object")])
            raise err_bad_request("Object 'Kind' is missing in '" + json.dumps(obj)[:200] + "'")
        kind, av = obj.get("kind"), obj.get("apiVersion")
        if not patch_mode:
            if kind and kind != rt.kind:
                raise err_bad_request(f'{kind} in version "{(av or rt.gv).split("/")[-1]}" cannot be handled as '
                                      f'a {rt.kind}: the kind in the request body does not match the resource '
                                      f'({rt.kind})')
            if av and av != rt.gv:
                raise err_bad_request(f"the API version in the data ({av}) does not match the expected API "
                                      f"version ({rt.gv})")
        obj = dict(obj)
        obj["kind"], obj["apiVersion"] = rt.kind, rt.gv
        pruned, unknown, type_errs = conform(rt.kind, obj)
        if type_errs:
            if patch_mode:
                raise err_invalid(None, "", [FieldError("Invalid", "patch", jdump(obj).decode(), type_errs[0])])
            raise err_bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                  f'{type_errs[0]}')
        if unknown:
            msgs = [f'unknown field "{u}"' for u in unknown]
            if validation == "Strict":
                sde = "strict decoding error: " + ", ".join(msgs)
                if patch_mode:
                    raise err_invalid(None, "", [FieldError("Invalid", "patch", jdump(obj).decode(), sde)])
                raise err_bad_request(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                      f'{sde}')
            if validation == "Warn":
                warnings.extend(msgs)
        if not isinstance(pruned.get("metadata"), dict):
            pruned["metadata"] = {}
        return pruned

    def _check_namespace(self, rt: RT, ns: str, name: str):
        if not rt.namespaced:
            return
        nso = self.get(NS_RT, None, ns)
        if nso is None:
            raise err_not_found(NS_RT, ns)
        if (nso.get("status") or {}).get("phase") == "Terminating" and rt.kind != "Event":
            raise err_forbidden(rt, name, f"unable to create new content in namespace {ns} because it is "
                                          f"being terminated")

    # ---- verbs ----
    def create(self, rt: RT, ns: str | None, body, dry_run=False, validation="Warn", internal=False):
        warnings: list[str] = []
        with self.lock:
            obj = self.typed(rt, body, validation, warnings)
            meta = obj["metadata"]
            if rt.namespaced:
                if meta.get("namespace") and ns and meta["namespace"] != ns:
                    raise err_bad_request("the namespace of the provided object does not match the namespace "
                                          "sent on the request")
                meta["namespace"] = ns or meta.get("namespace") or ""
            else:
                meta.pop("namespace", None)
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + rand_suffix()
            name = meta.get("name") or ""
            for k in ("uid", "resourceVersion", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "managedFields", "generation"):
                meta.pop(k, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_iso()
            if rt.workload:
                meta["generation"] = 1
            if rt.status:
                if rt is NS_RT:
                    obj["status"] = {"phase": "Active"}
                elif rt.kind == "Service":
                    obj["status"] = {"loadBalancer": {}}
                elif rt is not NODE_RT:
                    obj["status"] = {}
            apply_defaults(rt, obj)
            if rt is POD_RT and not internal:
                try:
                    admit_pod(self, obj)
                except SAMissing as exc:
                    raise err_forbidden(rt, name, str(exc))
            errs = validate_object(rt, obj)
            if errs:
                raise err_invalid(rt, name, errs)
            self._check_namespace(rt, meta.get("namespace", ""), name)
            if self.get(rt, meta.get("namespace"), name) is not None:
                raise err_already_exists(rt, name)
            if dry_run:
                return obj, warnings
            stored = self._store(rt, obj, "ADDED")
            self._after_create(rt, stored)
            return stored, warnings

    def _after_create(self, rt: RT, obj: dict):
        meta = obj["metadata"]
        if rt is NS_RT:
            ns = meta["name"]
            if self.get(SA_RT, ns, "default") is None:
                self._internal_create(SA_RT, {"metadata": {"name": "default", "namespace": ns}})
            if self.get(CM_RT, ns, "kube-root-ca.crt") is None:
                self._internal_create(CM_RT, {"metadata": {"name": "kube-root-ca.crt", "namespace": ns, "annotations": {
                    "kubernetes.io/description": "Contains a CA bundle that can be used to verify the "
                                                 "kube-apiserver when using internal endpoints such as the "
                                                 "internal service IP or kubernetes.default.svc. No other "
                                                 "usage is guaranteed across distributions of Kubernetes "
                                                 "clusters."}},
                    "data": {"ca.crt": FAKE_CA_PEM}})
        elif rt in (DEPLOY_RT, STS_RT) or (rt is RS_RT and not _owner(obj, "Deployment")):
            self._start_rollout(rt, obj)

    def _internal_create(self, rt: RT, obj: dict) -> dict:
        obj = dict(obj, kind=rt.kind, apiVersion=rt.gv)
        meta = obj["metadata"]
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_iso())
        if rt.workload:
            meta.setdefault("generation", 1)
        apply_defaults(rt, obj)
        stored = self._store(rt, obj, "ADDED")
        return stored

    def update(self, rt: RT, ns, name: str, body, sub=None, dry_run=False, validation="Warn"):
        warnings: list[str] = []
        with self.lock:
            old = self.get(rt, ns, name)
            if old is None:
                raise err_not_found(rt, name)
            if sub == "scale":
                return self._update_scale(rt, old, body, dry_run), warnings
            obj = self.typed(rt, body, validation, warnings)
            meta = obj["metadata"]
            if meta.get("name") and meta["name"] != name:
                raise err_bad_request(f"the name of the object ({meta['name']}) does not match the name on the "
                                      f"URL ({name})")
            if rt.namespaced and meta.get("namespace") and meta["namespace"] != ns:
                raise err_bad_request("the namespace of the provided object does not match the namespace sent "
                                      "on the request")
            return self._commit_update(rt, old, obj, sub, dry_run), warnings

    def _commit_update(self, rt: RT, old: dict, new: dict, sub=None, dry_run=False) -> dict:
        meta = new.setdefault("metadata", {})
        om = old["metadata"]
        name = om["name"]
        rv = meta.get("resourceVersion")
        if rv and rv != om.get("resourceVersion"):
            raise err_conflict(rt, name)
        if meta.get("uid") and meta["uid"] != om.get("uid"):
            raise err_conflict(rt, name, f"Precondition failed: UID in precondition: {meta['uid']}, UID in "
                                         f"object meta: {om.get('uid')}")
        if sub == "status":
            result = deep(old)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            new = result
            meta = new["metadata"]
        else:
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = om.get("namespace")
            for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "generation"):
                if k in om:
                    meta[k] = om[k]
                else:
                    meta.pop(k, None)
            meta.pop("managedFields", None)
            if rt.status:
                if "status" in old:
                    new["status"] = deep(old["status"])
                else:
                    new.pop("status", None)
            apply_defaults(rt, new)
            errs = validate_object(rt, new, old)
            if errs:
                raise err_invalid(rt, name, errs)
            if rt.workload and _spec_of(new) != _spec_of(old):
                meta["generation"] = int(om.get("generation") or 1) + 1
        meta["resourceVersion"] = om.get("resourceVersion")
        if _strip_rv(new) == _strip_rv(old):
            return old
        if dry_run:
            return new
        stored = self._store(rt, new, "MODIFIED")
        if (rt in (DEPLOY_RT, STS_RT) or (rt is RS_RT and not _owner(stored, "Deployment"))) and \
                stored["metadata"].get("generation") != om.get("generation"):
            self._start_rollout(rt, stored)
        return stored

    def patch(self, rt: RT, ns, name: str, ptype: str, body: bytes, sub=None, dry_run=False,
              validation="Warn", force=False):
        warnings: list[str] = []
        try:
            patch_doc = json.loads(body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError) as exc:
            if ptype == "apply":
                raise ApiError(415, "UnsupportedMediaType",
                               "this emulator only accepts JSON bodies for application/apply-patch+yaml: "
                               f"{exc}")
            raise err_bad_request(f"error decoding patch: {exc}")
        with self.lock:
            old = self.get(rt, ns, name)
            if old is None:
                if ptype == "apply" and sub is None:
                    if isinstance(patch_doc, dict):
                        patch_doc.setdefault("metadata", {})["name"] = name
                    obj, w = self.create(rt, ns, patch_doc, dry_run=dry_run, validation=validation)
                    return obj, warnings + w, 201
                raise err_not_found(rt, name)
            base = self._scale_view(rt, old) if sub == "scale" else old
            try:
                if ptype == "json":
                    patched = json_patch(base, patch_doc)
                elif ptype == "merge":
                    if not isinstance(patch_doc, dict):
                        patched = patch_doc
                    else:
                        patched = merge_patch(base, patch_doc)
                elif ptype in ("strategic", "apply"):
                    if not isinstance(patch_doc, dict):
                        raise err_bad_request("invalid patch: the patch must be a JSON object")
                    patched = strategic_merge(base, patch_doc)
                else:
                    raise err_bad_request(f"unknown patch type {ptype}")
            except PatchError as exc:
                raise err_generic(422, f"json patch: {exc}")
            except ValueError as exc:
                raise err_bad_request(str(exc))
            if sub == "scale":
                return self._update_scale(rt, old, patched, dry_run), warnings, 200
            new = self.typed(rt, patched, validation, warnings, patch_mode=True)
            return self._commit_update(rt, old, new, sub, dry_run), warnings, 200

    def _scale_view(self, rt: RT, obj: dict) -> dict:
        meta = obj["metadata"]
        st = obj.get("status") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                  "creationTimestamp") if k in meta},
                "spec": {"replicas": _spec_of(obj).get("replicas", 1)},
                "status": {"replicas": st.get("replicas", 0),
                           "selector": selector_string(_spec_of(obj).get("selector"))}}

    def _update_scale(self, rt: RT, old: dict, scale, dry_run: bool) -> dict:
        if not rt.scale:
            raise err_generic(404)
        if not isinstance(scale, dict):
            raise err_bad_request("invalid Scale object")
        reps = (scale.get("spec") or {}).get("replicas", 0)
        if isinstance(reps, bool) or not isinstance(reps, int) or reps < 0:
            raise err_invalid(rt, old["metadata"]["name"],
                              [FieldError("Invalid", "spec.replicas", reps, "must be greater than or equal to 0")])
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv and rv != old["metadata"]["resourceVersion"]:
            raise err_conflict(rt, old["metadata"]["name"])
        new = deep(old)
        new["spec"]["replicas"] = reps
        stored = self._commit_update(rt, old, new, None, dry_run)
        return self._scale_view(rt, stored)

    def delete(self, rt: RT, ns, name: str, opts: dict, dry_run=False):
        with self.lock:
            old = self.get(rt, ns, name)
            if old is None:
                raise err_not_found(rt, name)
            pre = (opts or {}).get("preconditions") or {}
            om = old["metadata"]
            if pre.get("uid") and pre["uid"] != om.get("uid"):
                raise err_conflict(rt, name, f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                                             f"object meta: {om.get('uid')}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != om.get("resourceVersion"):
                raise err_conflict(rt, name, f"Precondition failed: ResourceVersion in precondition: "
                                             f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                                             f"{om.get('resourceVersion')}")
            status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": _details(rt, name, uid=om.get("uid"))}
            if dry_run:
                return status
            if rt is NS_RT:
                if (old.get("status") or {}).get("phase") != "Terminating":
                    new = deep(old)
                    new["metadata"]["deletionTimestamp"] = now_iso()
                    new["metadata"]["deletionGracePeriodSeconds"] = 0
                    new["status"] = {"phase": "Terminating"}
                    old = self._store(rt, new, "MODIFIED")
                    self.schedule(min(0.2, self.delay), self._purge_namespace, name, om.get("uid"))
                return old
            self._remove(rt, ns, name)
            if (opts or {}).get("propagationPolicy") != "Orphan":
                self._cascade(rt, old)
            if rt is POD_RT:
                self._pod_gone(old)
            return status

    def _cascade(self, rt: RT, owner: dict):
        uid = owner["metadata"].get("uid")
        ns = owner["metadata"].get("namespace")
        for child_rt in (RS_RT, POD_RT):
            for child in self.list_objs(child_rt, ns):
                if any(r.get("uid") == uid for r in child["metadata"].get("ownerReferences") or []):
                    self._remove(child_rt, ns, child["metadata"]["name"])
                    self._cascade(child_rt, child)

    def _purge_namespace(self, name: str, uid: str):
        nso = self.get(NS_RT, None, name)
        if nso is None or nso["metadata"].get("uid") != uid:
            return
        for rt in RESOURCES:
            if rt.namespaced:
                for obj in self.list_objs(rt, name):
                    self._remove(rt, name, obj["metadata"]["name"])
        self._remove(NS_RT, "", name)

    def delete_collection(self, rt: RT, ns, label_reqs, field_terms, opts, dry_run=False) -> dict:
        with self.lock:
            items = [o for o in self.list_objs(rt, ns) if label_match(label_reqs, o["metadata"].get("labels"))
                     and field_match(field_terms, o)]
            for o in items:
                if not dry_run:
                    self.delete(rt, o["metadata"].get("namespace"), o["metadata"]["name"], opts)
            return {"kind": rt.kind + "List", "apiVersion": rt.gv, "metadata": {"resourceVersion": str(self.rv)},
                    "items": items}
