"""What happens to an object between decoding and storage: defaulting and validation per kind,
and pod admission (the ServiceAccount check, the EKS pod identity webhook, the fake kubelet's status).
"""
from __future__ import annotations

import base64
import hashlib
import random
import uuid

from kube_common import ROLE_ARN_ANNOTATION, now_iso, rand_suffix
from kube_errors import FieldError, GoRepr, err_not_found, go_quote
from kube_names import (
    is_config_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    validate_annotations,
    validate_labels,
    validate_object_meta,
)
from kube_resources import CRD_RT, DEPLOY_RT, NS_RT, POD_RT, RS_RT, RT, SA_RT, STS_RT
from kube_selectors import selector_matches


def _image_pull_policy(image: str) -> str:
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _default_probe(p):
    if isinstance(p, dict):
        p.setdefault("timeoutSeconds", 1)
        p.setdefault("periodSeconds", 10)
        p.setdefault("successThreshold", 1)
        p.setdefault("failureThreshold", 3)
        if isinstance(p.get("httpGet"), dict):
            p["httpGet"].setdefault("path", "/")
            p["httpGet"].setdefault("scheme", "HTTP")


def default_container(c: dict):
    if not isinstance(c, dict):
        return
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("imagePullPolicy", _image_pull_policy(c.get("image") or ""))
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")
    for e in c.get("env") or []:
        if isinstance(e, dict) and isinstance(e.get("valueFrom"), dict):
            fr = e["valueFrom"].get("fieldRef")
            if isinstance(fr, dict):
                fr.setdefault("apiVersion", "v1")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(c.get(probe))


def default_pod_spec(spec: dict):
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        default_container(c)
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        for src in ("configMap", "secret", "projected", "downwardAPI"):
            if isinstance(v.get(src), dict):
                v[src].setdefault("defaultMode", 420)
        if isinstance(v.get("hostPath"), dict):
            v["hostPath"].setdefault("type", "")


def default_template(tpl: dict):
    if not isinstance(tpl, dict):
        return
    meta = tpl.setdefault("metadata", {})
    if isinstance(meta, dict) and "creationTimestamp" not in meta:
        meta["creationTimestamp"] = None
    spec = tpl.setdefault("spec", {})
    if isinstance(spec, dict):
        default_pod_spec(spec)


def apply_defaults(rt: RT, obj: dict):
    spec = obj.get("spec")
    if rt is DEPLOY_RT and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        strat = spec.setdefault("strategy", {})
        if isinstance(strat, dict):
            strat.setdefault("type", "RollingUpdate")
            if strat["type"] == "RollingUpdate":
                ru = strat.setdefault("rollingUpdate", {})
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        default_template(spec.get("template"))
    elif rt is STS_RT and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        us = spec.setdefault("updateStrategy", {})
        if isinstance(us, dict):
            us.setdefault("type", "RollingUpdate")
            if us["type"] == "RollingUpdate":
                us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        default_template(spec.get("template"))
    elif rt is RS_RT and isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        default_template(spec.get("template"))
    elif rt is POD_RT and isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("tolerations", [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 300}])
    elif rt.kind == "Service" and isinstance(spec, dict):
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            ip = spec.get("clusterIP") or f"10.100.{random.randint(0, 255)}.{random.randint(1, 254)}"
            spec.setdefault("clusterIP", ip)
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                p.setdefault("targetPort", p.get("port"))
    elif rt.kind == "Secret":
        obj.setdefault("type", "Opaque")
        sd = obj.pop("stringData", None)
        if isinstance(sd, dict) and sd:
            data = obj.setdefault("data", {})
            for k, v in sd.items():
                data[k] = base64.b64encode(str(v).encode()).decode()
    elif rt is NS_RT:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        meta = obj.setdefault("metadata", {})
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta.get("name", "")


def _validate_pod_spec(spec, path: str, workload: bool) -> list[FieldError]:
    errs = []
    if not isinstance(spec, dict):
        return [FieldError("Required", path)]
    containers = spec.get("containers") or []
    if not containers:
        errs.append(FieldError("Required", path + ".containers"))
    volumes = {v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict)}
    for i, v in enumerate(spec.get("volumes") or []):
        vp = f"{path}.volumes[{i}]"
        if not v.get("name"):
            errs.append(FieldError("Required", vp + ".name"))
        else:
            errs += [FieldError("Invalid", vp + ".name", v["name"], m) for m in is_dns1123_label(v["name"])]
    names = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            cp = f"{path}.{group}[{i}]"
            if not isinstance(c, dict):
                continue
            name = c.get("name") or ""
            if not name:
                errs.append(FieldError("Required", cp + ".name"))
            else:
                errs += [FieldError("Invalid", cp + ".name", name, m) for m in is_dns1123_label(name)]
                if name in names:
                    errs.append(FieldError("Duplicate", cp + ".name", name))
                names.add(name)
            if not c.get("image"):
                errs.append(FieldError("Required", cp + ".image"))
            for j, e in enumerate(c.get("env") or []):
                ep = f"{cp}.env[{j}].name"
                if not isinstance(e, dict):
                    continue
                if not e.get("name"):
                    errs.append(FieldError("Required", ep))
                else:
                    errs += [FieldError("Invalid", ep, e["name"], m) for m in is_env_var_name(e["name"])]
            for j, p in enumerate(c.get("ports") or []):
                if isinstance(p, dict) and isinstance(p.get("containerPort"), int) and not (
                        1 <= p["containerPort"] <= 65535):
                    errs.append(FieldError("Invalid", f"{cp}.ports[{j}].containerPort", p["containerPort"],
                                           "must be between 1 and 65535, inclusive"))
            for j, m in enumerate(c.get("volumeMounts") or []):
                if isinstance(m, dict) and m.get("name") not in volumes:
                    errs.append(FieldError("NotFound", f"{cp}.volumeMounts[{j}].name", m.get("name")))
    sa = spec.get("serviceAccountName")
    if sa:
        errs += [FieldError("Invalid", path + ".serviceAccountName", sa, m) for m in is_dns1123_subdomain(sa)]
    if workload and spec.get("restartPolicy", "Always") != "Always":
        errs.append(FieldError("NotSupported", path + ".restartPolicy", spec.get("restartPolicy"),
                               'supported values: "Always"'))
    return errs


def _go_selector(sel) -> str:
    ml = (sel or {}).get("matchLabels") or {}
    inner = ", ".join(f"{go_quote(k)}:{go_quote(v)}" for k, v in sorted(ml.items()))
    mls = "map[string]string{" + inner + "}" if ml else "map[string]string(nil)"
    return f"v1.LabelSelector{{MatchLabels:{mls}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}"


def _validate_crd_name(name: str, spec: dict) -> list[FieldError]:
    """apiextensions `ValidateCustomResourceDefinition`: the name is `<plural>.<group>`."""
    plural = (spec.get("names") or {}).get("plural") or ""
    if name and name != f"{plural}.{spec.get('group') or ''}":
        return [FieldError("Invalid", "metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []


def validate_object(rt: RT, obj: dict, old: dict | None = None) -> list[FieldError]:
    meta = obj.get("metadata") or {}
    errs = validate_object_meta(meta, rt.namespaced, rt.name_fn)
    spec = obj.get("spec")
    if rt is CRD_RT:
        errs += _validate_crd_name(meta.get("name") or "", spec if isinstance(spec, dict) else {})
    if rt.workload:
        if not isinstance(spec, dict):
            spec = {}
        reps = spec.get("replicas")
        if isinstance(reps, int) and reps < 0:
            errs.append(FieldError("Invalid", "spec.replicas", reps, "must be greater than or equal to 0"))
        sel = spec.get("selector")
        tpl = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        tmeta = tpl.get("metadata") if isinstance(tpl.get("metadata"), dict) else {}
        if not sel:
            errs.append(FieldError("Required", "spec.selector"))
        elif not (sel.get("matchLabels") or sel.get("matchExpressions")):
            errs.append(FieldError("Invalid", "spec.selector", GoRepr(_go_selector(sel)),
                                   f"empty selector is invalid for {rt.singular}"))
        elif not selector_matches(sel, tmeta.get("labels")):
            errs.append(FieldError("Invalid", "spec.template.metadata.labels", tmeta.get("labels") or {},
                                   "`selector` does not match template `labels`"))
        errs += validate_labels(tmeta.get("labels"), "spec.template.metadata.labels")
        errs += validate_annotations(tmeta.get("annotations"), "spec.template.metadata.annotations")
        errs += _validate_pod_spec(tpl.get("spec"), "spec.template.spec", True)
        strat = spec.get("strategy") if rt is DEPLOY_RT else None
        if isinstance(strat, dict) and strat.get("type") == "Recreate" and strat.get("rollingUpdate") is not None:
            errs.append(FieldError("Forbidden", "spec.strategy.rollingUpdate", None,
                                   "may not be specified when strategy `type` is 'Recreate'"))
        elif isinstance(strat, dict) and strat.get("type") not in ("Recreate", "RollingUpdate"):
            errs.append(FieldError("NotSupported", "spec.strategy.type", strat.get("type"),
                                   'supported values: "Recreate", "RollingUpdate"'))
        if old is not None:
            old_spec = old.get("spec") or {}
            if old_spec.get("selector") != spec.get("selector"):
                errs.append(FieldError("Invalid", "spec.selector", GoRepr(_go_selector(spec.get("selector"))),
                                       "field is immutable"))
            if rt is STS_RT:
                allowed = {"replicas", "ordinals", "template", "updateStrategy",
                           "persistentVolumeClaimRetentionPolicy", "minReadySeconds"}
                a = {k: v for k, v in old_spec.items() if k not in allowed}
                b = {k: v for k, v in spec.items() if k not in allowed}
                if a != b:
                    errs.append(FieldError("Forbidden", "spec", None,
                                           "updates to statefulset spec for fields other than 'replicas', "
                                           "'ordinals', 'template', 'updateStrategy', "
                                           "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
                                           "are forbidden"))
    elif rt is POD_RT:
        errs += _validate_pod_spec(spec, "spec", False)
    elif rt.kind in ("ConfigMap", "Secret"):
        size = 0
        for fld in ("data", "binaryData"):
            for k, v in (obj.get(fld) or {}).items():
                errs += [FieldError("Invalid", f"{fld}[{k}]", k, m) for m in is_config_key(k)]
                size += len(k) + len(v or "")
        if rt.kind == "ConfigMap":
            for k in (obj.get("binaryData") or {}):
                if k in (obj.get("data") or {}):
                    errs.append(FieldError("Invalid", f"binaryData[{k}]", k,
                                           "duplicate of key present in data"))
        if size > 1024 * 1024:
            errs.append(FieldError("TooLong", "data", None, "may not be more than 1048576 bytes"))
        if old is not None:
            if old.get("immutable") and (old.get("data") != obj.get("data")
                                         or old.get("binaryData") != obj.get("binaryData")):
                errs.append(FieldError("Forbidden", "data", None,
                                       "field is immutable when `immutable` is set"))
            if old.get("immutable") and not obj.get("immutable"):
                errs.append(FieldError("Forbidden", "immutable", None,
                                       "field is immutable when `immutable` is set"))
            if rt.kind == "Secret" and old.get("type") != obj.get("type"):
                errs.append(FieldError("Invalid", "type", obj.get("type"), "field is immutable"))
    elif rt.kind == "Service" and isinstance(spec, dict):
        for i, p in enumerate(spec.get("ports") or []):
            if isinstance(p, dict) and not p.get("port"):
                errs.append(FieldError("Required", f"spec.ports[{i}].port"))
    if old is not None:
        om = old.get("metadata") or {}
        if meta.get("name") != om.get("name"):
            errs.append(FieldError("Invalid", "metadata.name", meta.get("name"), "field is immutable"))
    return errs


class SAMissing(Exception):
    pass


def admit_pod(store, pod: dict):
    """Pod admission (the ServiceAccount must exist; the EKS pod identity webhook) and the fake
    kubelet: the pod is scheduled on the store's node and Running at once."""
    spec = pod.setdefault("spec", {})
    ns = pod["metadata"].get("namespace", "")
    sa_name = spec.get("serviceAccountName") or "default"
    sa = store.get(SA_RT, ns, sa_name)
    if sa is None:
        if store.get(NS_RT, None, ns) is None:
            raise err_not_found(NS_RT, ns)
        raise SAMissing(f'error looking up service account {ns}/{sa_name}: serviceaccount "{sa_name}" '
                        f'not found')
    if not pod["metadata"].get("name"):
        pod["metadata"]["name"] = (pod["metadata"].get("generateName") or "pod-") + rand_suffix()
    if sa.get("automountServiceAccountToken") is not False and spec.get(
            "automountServiceAccountToken") is not False:
        vol = "kube-api-access-" + rand_suffix()
        spec.setdefault("volumes", []).append({"name": vol, "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                          "fieldPath": "metadata.namespace"}}]}}]}})
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            c.setdefault("volumeMounts", []).append(
                {"name": vol, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"})
    arn = ((sa["metadata"].get("annotations") or {}).get(ROLE_ARN_ANNOTATION) or "").strip()
    if arn:
        ann = sa["metadata"].get("annotations") or {}
        audience = ann.get("eks.amazonaws.com/audience") or "sts.amazonaws.com"
        try:
            expiration = int(ann.get("eks.amazonaws.com/token-expiration") or 86400)
        except ValueError:
            expiration = 86400
        inject = [("AWS_STS_REGIONAL_ENDPOINTS", "regional"), ("AWS_ROLE_ARN", arn),
                  ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token")]
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            env = c.setdefault("env", [])
            have = {e.get("name") for e in env if isinstance(e, dict)}
            env.extend({"name": k, "value": v} for k, v in inject if k not in have)
            mounts = c.setdefault("volumeMounts", [])
            if not any(m.get("name") == "aws-iam-token" for m in mounts):
                mounts.append({"name": "aws-iam-token", "readOnly": True,
                               "mountPath": "/var/run/secrets/eks.amazonaws.com/serviceaccount"})
        vols = spec.setdefault("volumes", [])
        if not any(v.get("name") == "aws-iam-token" for v in vols):
            vols.append({"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"audience": audience, "expirationSeconds": expiration,
                                         "path": "token"}}]}})
    spec.setdefault("nodeName", store.node_name)
    now = now_iso()
    ip = f"192.168.{random.randint(32, 63)}.{random.randint(2, 254)}"
    statuses = []
    for c in spec.get("containers") or []:
        image = c.get("image") or ""
        statuses.append({"name": c.get("name"), "image": image,
                         "imageID": image + "@sha256:" + hashlib.sha256(image.encode()).hexdigest(),
                         "containerID": "containerd://" + uuid.uuid4().hex + uuid.uuid4().hex,
                         "ready": True, "started": True, "restartCount": 0,
                         "state": {"running": {"startedAt": now}}, "lastState": {}})
    pod["status"] = {
        "phase": "Running",
        "conditions": [{"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                       for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                 "PodScheduled")],
        "hostIP": store.node_ip, "hostIPs": [{"ip": store.node_ip}], "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": now, "containerStatuses": statuses, "qosClass": "BestEffort"}
