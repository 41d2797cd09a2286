"""The workload controllers (Deployment, ReplicaSet, StatefulSet): rollouts on a timer, pods
recreated when deleted. A mixin of kube_store.Cluster: it runs on the store's timers and lock.
"""
from __future__ import annotations

import heapq
import time
import traceback
import uuid

from kube_admission import SAMissing, admit_pod, apply_defaults
from kube_common import LOG, STOP, _spec_of, _strip_rv, deep, now_iso, rand_suffix, stable_hash
from kube_resources import DEPLOY_RT, POD_RT, RS_RT, RT, SA_RT, STS_RT


def _template_hash(tpl: dict) -> str:
    t = deep(tpl or {})
    (t.get("metadata") or {}).pop("creationTimestamp", None)
    return stable_hash(t)


class Controllers:
    """Needs the store's lock, timers and storage methods (kube_store.Cluster)."""

    def _new_pod(self, ns: str, name: str, template: dict, owner: dict, labels: dict, extra_spec=None) -> dict:
        tmeta = template.get("metadata") or {}
        meta = {"name": name, "namespace": ns, "uid": str(uuid.uuid4()), "creationTimestamp": now_iso(),
                "labels": dict(tmeta.get("labels") or {}, **labels),
                "ownerReferences": [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                     "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                     "controller": True, "blockOwnerDeletion": True}]}
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        if owner["kind"] == "ReplicaSet":
            meta["generateName"] = owner["metadata"]["name"] + "-"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": deep(template.get("spec") or {})}
        pod["spec"].update(extra_spec or {})
        apply_defaults(POD_RT, pod)
        admit_pod(self, pod)
        return self._store(POD_RT, pod, "ADDED")

    def _pod_gone(self, pod: dict):
        """A controlled pod was deleted through the API: its controller recreates it."""
        ref = _owner(pod, None)
        if not ref:
            return
        ns = pod["metadata"].get("namespace")
        if ref["kind"] == "ReplicaSet":
            rs = self.get(RS_RT, ns, ref["name"])
            dep = self.get(DEPLOY_RT, ns, (_owner(rs, "Deployment") or {}).get("name", "")) if rs else None
            target = (DEPLOY_RT, dep) if dep else (RS_RT, rs)
        elif ref["kind"] == "StatefulSet":
            target = (STS_RT, self.get(STS_RT, ns, ref["name"]))
        else:
            return
        rt, obj = target
        if obj is not None:
            self.schedule(self.delay, self._reconcile, rt, ns, obj["metadata"]["name"],
                          obj["metadata"]["uid"], None)

    # ---- workload controller ----
    def _start_rollout(self, rt: RT, obj: dict):
        meta = obj["metadata"]
        args = (rt, meta.get("namespace"), meta["name"], meta["uid"], meta.get("generation"))
        self.pending[(rt.key, meta.get("namespace"), meta["name"])] = meta.get("generation")
        self.schedule(self.delay * 0.3, self._observe, *args)
        self.schedule(self.delay, self._reconcile, *args)

    def _current(self, rt, ns, name, uid, gen):
        obj = self.get(rt, ns, name)
        if obj is None or obj["metadata"].get("uid") != uid:
            return None
        if gen is not None and obj["metadata"].get("generation") != gen:
            return None
        return obj

    def _owned_pods(self, uid: str, ns: str) -> list:
        return [p for p in self.list_objs(POD_RT, ns)
                if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences") or [])]

    def _observe(self, rt, ns, name, uid, gen):
        """First controller pass: the new generation is observed but the rollout is not done yet."""
        obj = self._current(rt, ns, name, uid, gen)
        if obj is None or (obj.get("status") or {}).get("observedGeneration") == gen:
            return
        new = deep(obj)
        spec = _spec_of(new)
        desired = spec.get("replicas", 1)
        h = _template_hash(spec.get("template"))
        st = new.setdefault("status", {})
        st["observedGeneration"] = gen
        if rt is DEPLOY_RT:
            pods = [p for rs in self._deployment_rss(new) for p in self._owned_pods(rs["metadata"]["uid"], ns)]
            updated = len([p for p in pods if p["metadata"]["labels"].get("pod-template-hash") == h])
            _set_counts(st, replicas=len(pods), updatedReplicas=min(updated, desired), readyReplicas=len(pods),
                        availableReplicas=len(pods), unavailableReplicas=max(desired - len(pods), 0))
            now = now_iso()
            _set_condition(st, "Available", "True" if len(pods) >= desired else "False",
                           "MinimumReplicasAvailable" if len(pods) >= desired else "MinimumReplicasUnavailable",
                           "Deployment has minimum availability." if len(pods) >= desired
                           else "Deployment does not have minimum availability.", now)
            _set_condition(st, "Progressing", "True", "ReplicaSetUpdated",
                           f'ReplicaSet "{name}-{h}" is progressing.', now)
        else:
            pods = self._owned_pods(uid, ns)
            rev = f"{name}-{h}"
            updated = len([p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") == rev])
            if rt is STS_RT:
                st["updateRevision"] = rev
                st.setdefault("currentRevision", rev)
                _set_counts(st, replicas=len(pods), readyReplicas=len(pods), currentReplicas=len(pods) - updated
                            if st["currentRevision"] != rev else len(pods), updatedReplicas=updated,
                            availableReplicas=len(pods))
                st.setdefault("collisionCount", 0)
            else:
                _set_counts(st, replicas=len(pods), fullyLabeledReplicas=len(pods), readyReplicas=len(pods),
                            availableReplicas=len(pods))
        self._store(rt, new, "MODIFIED")

    def _reconcile(self, rt, ns, name, uid, gen):
        """Second pass: pods are (re)created and the status reports a finished rollout."""
        obj = self._current(rt, ns, name, uid, gen)
        if obj is None:
            return
        if gen is None and (rt.key, ns, name) in self.pending:
            return  # a rollout is pending; it recreates the pods when it completes
        try:
            if rt is DEPLOY_RT:
                self._reconcile_deployment(obj)
            elif rt is STS_RT:
                self._reconcile_statefulset(obj)
            else:
                self._reconcile_replicaset(obj)
            if gen is not None and self.pending.get((rt.key, ns, name)) == gen:
                del self.pending[(rt.key, ns, name)]
        except SAMissing as exc:
            cur = self.get(rt, ns, name)
            new = deep(cur)
            st = new.setdefault("status", {})
            st["observedGeneration"] = cur["metadata"].get("generation")
            msg = f'pods "{name}-" is forbidden: {exc}'
            if rt is DEPLOY_RT:
                _set_condition(st, "ReplicaFailure", "True", "FailedCreate", msg, now_iso())
            if _strip_rv(new) != _strip_rv(cur):
                self._store(rt, new, "MODIFIED")
            self.schedule(0.25, self._reconcile, rt, ns, name, uid, gen)

    def _deployment_rss(self, dep: dict) -> list:
        uid = dep["metadata"]["uid"]
        return [rs for rs in self.list_objs(RS_RT, dep["metadata"].get("namespace"))
                if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or [])]

    def _reconcile_deployment(self, dep: dict):
        meta = dep["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        spec = _spec_of(dep)
        desired = spec.get("replicas", 1)
        tpl = spec.get("template") or {}
        h = _template_hash(tpl)
        sa = (tpl.get("spec") or {}).get("serviceAccountName") or "default"
        if desired > 0 and self.get(SA_RT, ns, sa) is None:
            raise SAMissing(f'error looking up service account {ns}/{sa}: serviceaccount "{sa}" not found')
        rss = self._deployment_rss(dep)
        revs = [int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0") or 0)
                for rs in rss]
        max_rev = max(revs, default=0)
        rs_name = f"{name}-{h}"
        cur_rs = next((rs for rs in rss if rs["metadata"]["name"] == rs_name), None)
        rev = int((cur_rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")
                  if cur_rs else 0)
        if cur_rs is None or rev < max_rev:
            rev = max_rev + 1
        rs_tpl = deep(tpl)
        rs_tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        sel = deep(spec.get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        ann = {"deployment.kubernetes.io/desired-replicas": str(desired),
               "deployment.kubernetes.io/max-replicas": str(desired + max(1, (desired + 3) // 4)),
               "deployment.kubernetes.io/revision": str(rev)}
        if cur_rs is None:
            cur_rs = self._internal_create(RS_RT, {
                "metadata": {"name": rs_name, "namespace": ns, "annotations": ann,
                             "labels": dict((tpl.get("metadata") or {}).get("labels") or {}, **{"pod-template-hash": h}),
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                                  "uid": meta["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "spec": {"replicas": desired, "minReadySeconds": spec.get("minReadySeconds", 0),
                         "selector": sel, "template": rs_tpl}})
        # scale old replica sets down and remove their pods
        for rs in rss:
            if rs["metadata"]["name"] == rs_name:
                continue
            for p in self._owned_pods(rs["metadata"]["uid"], ns):
                self._remove(POD_RT, ns, p["metadata"]["name"])
            if _spec_of(rs).get("replicas") != 0 or (rs.get("status") or {}).get("replicas"):
                new = deep(rs)
                new["spec"]["replicas"] = 0
                new["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
                new["status"] = {"replicas": 0, "observedGeneration": new["metadata"]["generation"]}
                self._store(RS_RT, new, "MODIFIED")
        pods = self._scale_pods(cur_rs, desired, lambda i: f"{rs_name}-{rand_suffix()}", {"pod-template-hash": h})
        new_rs = deep(cur_rs)
        new_rs["metadata"]["annotations"] = dict(new_rs["metadata"].get("annotations") or {}, **ann)
        if _spec_of(new_rs).get("replicas") != desired:
            new_rs["spec"]["replicas"] = desired
            new_rs["metadata"]["generation"] = new_rs["metadata"].get("generation", 1) + 1
        new_rs["status"] = _clean_counts({"replicas": pods, "fullyLabeledReplicas": pods, "readyReplicas": pods,
                                          "availableReplicas": pods,
                                          "observedGeneration": new_rs["metadata"].get("generation", 1)})
        if _strip_rv(new_rs) != _strip_rv(cur_rs):
            self._store(RS_RT, new_rs, "MODIFIED")
        new = deep(self.get(DEPLOY_RT, ns, name))
        new["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(rev)
        st = new.setdefault("status", {})
        st["observedGeneration"] = new["metadata"].get("generation")
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            st.pop(k, None)
        _set_counts(st, replicas=pods, updatedReplicas=pods, readyReplicas=pods, availableReplicas=pods)
        now = now_iso()
        st["conditions"] = [c for c in st.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
        _set_condition(st, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                       now)
        _set_condition(st, "Progressing", "True", "NewReplicaSetAvailable",
                       f'ReplicaSet "{rs_name}" has successfully progressed.', now)
        self._store(DEPLOY_RT, new, "MODIFIED")

    def _scale_pods(self, owner: dict, desired: int, namer, labels: dict) -> int:
        """Make the pods owned by `owner` (a ReplicaSet) match its template; returns the pod count."""
        ns = owner["metadata"].get("namespace")
        tpl = _spec_of(owner).get("template") or {}
        pods = self._owned_pods(owner["metadata"]["uid"], ns)
        pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
        for p in pods[desired:]:
            self._remove(POD_RT, ns, p["metadata"]["name"])
        count = min(len(pods), desired)
        while count < desired:
            self._new_pod(ns, namer(count), tpl, owner, labels)
            count += 1
        return count

    def _reconcile_replicaset(self, rs: dict):
        meta = rs["metadata"]
        ns = meta.get("namespace")
        spec = _spec_of(rs)
        desired = spec.get("replicas", 1)
        tpl = spec.get("template") or {}
        sa = (tpl.get("spec") or {}).get("serviceAccountName") or "default"
        if desired > 0 and self.get(SA_RT, ns, sa) is None:
            raise SAMissing(f'error looking up service account {ns}/{sa}: serviceaccount "{sa}" not found')
        n = self._scale_pods(rs, desired, lambda i: f"{meta['name']}-{rand_suffix()}", {})
        new = deep(self.get(RS_RT, ns, meta["name"]))
        new["status"] = _clean_counts({"replicas": n, "fullyLabeledReplicas": n, "readyReplicas": n,
                                       "availableReplicas": n, "observedGeneration": meta.get("generation", 1)})
        self._store(RS_RT, new, "MODIFIED")

    def _reconcile_statefulset(self, sts: dict):
        meta = sts["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        spec = _spec_of(sts)
        desired = spec.get("replicas", 1)
        tpl = spec.get("template") or {}
        rev = f"{name}-{_template_hash(tpl)}"
        sa = (tpl.get("spec") or {}).get("serviceAccountName") or "default"
        if desired > 0 and self.get(SA_RT, ns, sa) is None:
            raise SAMissing(f'error looking up service account {ns}/{sa}: serviceaccount "{sa}" not found')
        pods = {p["metadata"]["name"]: p for p in self._owned_pods(meta["uid"], ns)}
        wanted = {f"{name}-{i}" for i in range(desired)}
        for pname, p in sorted(pods.items()):
            if pname not in wanted or p["metadata"]["labels"].get("controller-revision-hash") != rev:
                self._remove(POD_RT, ns, pname)
                pods.pop(pname)
        for i in range(desired):
            pname = f"{name}-{i}"
            if pname in pods:
                continue
            extra = {"hostname": pname}
            if spec.get("serviceName"):
                extra["subdomain"] = spec["serviceName"]
            self._new_pod(ns, pname, tpl, sts, {"controller-revision-hash": rev,
                                                "statefulset.kubernetes.io/pod-name": pname,
                                                "apps.kubernetes.io/pod-index": str(i)}, extra)
        new = deep(self.get(STS_RT, ns, name))
        st = new.setdefault("status", {})
        st["observedGeneration"] = new["metadata"].get("generation")
        for k in ("replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"):
            st.pop(k, None)
        _set_counts(st, replicas=desired, readyReplicas=desired, currentReplicas=desired,
                    updatedReplicas=desired, availableReplicas=desired)
        st["currentRevision"] = rev
        st["updateRevision"] = rev
        st.setdefault("collisionCount", 0)
        self._store(STS_RT, new, "MODIFIED")

    def controller_loop(self):
        with self.lock:
            while not STOP.is_set():
                now = time.monotonic()
                if self.timers and self.timers[0][0] <= now:
                    _due, _seq, fn, args = heapq.heappop(self.timers)
                    try:
                        fn(*args)
                    except Exception:  # keep the controller alive
                        LOG("controller error: " + traceback.format_exc())
                    continue
                timeout = min(0.5, self.timers[0][0] - now) if self.timers else 0.5
                self.timer_cond.wait(max(timeout, 0.001))


def _owner(obj: dict | None, kind: str | None):
    for r in ((obj or {}).get("metadata") or {}).get("ownerReferences") or []:
        if r.get("controller") and (kind is None or r.get("kind") == kind):
            return r
    return None


def _clean_counts(st: dict) -> dict:
    return {k: v for k, v in st.items() if v or k in ("replicas", "observedGeneration")}


def _set_counts(st: dict, **counts):
    for k, v in counts.items():
        if v:
            st[k] = v
        elif k == "replicas":
            st[k] = 0
        else:
            st.pop(k, None)


def _set_condition(st: dict, ctype: str, status: str, reason: str, message: str, now: str):
    conds = st.setdefault("conditions", [])
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != status:
                c["lastTransitionTime"] = now
            c.update(status=status, reason=reason, message=message, lastUpdateTime=now)
            return
    conds.append({"type": ctype, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
                  "reason": reason, "message": message})
