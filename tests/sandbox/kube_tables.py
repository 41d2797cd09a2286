"""Server-side tables (`kubectl get` without -o): the real columns per kind.
"""
from __future__ import annotations

import time

from kube_common import human_duration, parse_iso
from kube_resources import CRD_RT, DEPLOY_RT, NODE_RT, NS_RT, POD_RT, RS_RT, RT, STS_RT
from kube_selectors import selector_string

COLUMN_DESC = {"Name": "Name must be unique within a namespace.",
               "Age": "CreationTimestamp is a timestamp representing the server time when this object was "
                      "created."}


def _age(obj) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    return human_duration(time.time() - parse_iso(ts)) if ts else "<unknown>"


def _containers_images(tpl_spec):
    cs = (tpl_spec or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def table_columns(rt: RT):
    def col(name, typ="string", fmt="", prio=0):
        return {"name": name, "type": typ, "format": fmt, "description": COLUMN_DESC.get(name, name),
                "priority": prio}
    if rt is NS_RT:
        return [col("Name", fmt="name"), col("Status"), col("Age")]
    if rt.kind == "ServiceAccount":
        return [col("Name", fmt="name"), col("Secrets", "integer"), col("Age")]
    if rt.kind == "ConfigMap":
        return [col("Name", fmt="name"), col("Data", "integer"), col("Age")]
    if rt.kind == "Secret":
        return [col("Name", fmt="name"), col("Type"), col("Data", "integer"), col("Age")]
    if rt is POD_RT:
        return [col("Name", fmt="name"), col("Ready"), col("Status"), col("Restarts"), col("Age"),
                col("IP", prio=1), col("Node", prio=1), col("Nominated Node", prio=1),
                col("Readiness Gates", prio=1)]
    if rt is DEPLOY_RT:
        return [col("Name", fmt="name"), col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"),
                col("Age"), col("Containers", prio=1), col("Images", prio=1), col("Selector", prio=1)]
    if rt is STS_RT:
        return [col("Name", fmt="name"), col("Ready"), col("Age"), col("Containers", prio=1),
                col("Images", prio=1)]
    if rt is RS_RT:
        return [col("Name", fmt="name"), col("Desired", "integer"), col("Current", "integer"),
                col("Ready", "integer"), col("Age"), col("Containers", prio=1), col("Images", prio=1),
                col("Selector", prio=1)]
    if rt.kind == "Service":
        return [col("Name", fmt="name"), col("Type"), col("Cluster-IP"), col("External-IP"), col("Port(s)"),
                col("Age"), col("Selector", prio=1)]
    if rt.kind == "Event":
        return [col("Last Seen"), col("Type"), col("Reason"), col("Object"), col("Message")]
    if rt is NODE_RT:
        return [col("Name", fmt="name"), col("Status"), col("Roles"), col("Age"), col("Version"),
                col("Internal-IP", prio=1)]
    if rt is CRD_RT:
        return [col("Name", fmt="name"), col("Created At", "date")]
    return [col("Name", fmt="name"), col("Age")]


def table_cells(rt: RT, o: dict) -> list:
    meta, spec, st = o.get("metadata") or {}, o.get("spec") or {}, o.get("status") or {}
    name = meta.get("name", "")
    if rt is NS_RT:
        return [name, st.get("phase", ""), _age(o)]
    if rt.kind == "ServiceAccount":
        return [name, len(o.get("secrets") or []), _age(o)]
    if rt.kind == "ConfigMap":
        return [name, len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o)]
    if rt.kind == "Secret":
        return [name, o.get("type", ""), len(o.get("data") or {}), _age(o)]
    if rt is POD_RT:
        cs = st.get("containerStatuses") or []
        ready = sum(1 for c in cs if c.get("ready"))
        return [name, f"{ready}/{len(spec.get('containers') or [])}", st.get("phase", ""),
                sum(c.get("restartCount", 0) for c in cs), _age(o), st.get("podIP", "<none>"),
                spec.get("nodeName", "<none>"), "<none>", "<none>"]
    if rt is DEPLOY_RT:
        c, i = _containers_images((spec.get("template") or {}).get("spec"))
        return [name, f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", st.get("updatedReplicas", 0),
                st.get("availableReplicas", 0), _age(o), c, i, selector_string(spec.get("selector"))]
    if rt is STS_RT:
        c, i = _containers_images((spec.get("template") or {}).get("spec"))
        return [name, f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", _age(o), c, i]
    if rt is RS_RT:
        c, i = _containers_images((spec.get("template") or {}).get("spec"))
        return [name, spec.get("replicas", 1), st.get("replicas", 0), st.get("readyReplicas", 0), _age(o), c, i,
                selector_string(spec.get("selector"))]
    if rt.kind == "Service":
        ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
        sel = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
        return [name, spec.get("type", ""), spec.get("clusterIP", "<none>"), "<none>", ports or "<none>",
                _age(o), sel or "<none>"]
    if rt.kind == "Event":
        io = o.get("involvedObject") or {}
        return [_age(o), o.get("type", ""), o.get("reason", ""),
                f"{(io.get('kind') or '').lower()}/{io.get('name', '')}", o.get("message", "")]
    if rt is NODE_RT:
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or [])
        addr = next((a.get("address") for a in st.get("addresses") or [] if a.get("type") == "InternalIP"),
                    "<none>")
        return [name, "Ready" if ready else "NotReady", "<none>", _age(o),
                (st.get("nodeInfo") or {}).get("kubeletVersion", ""), addr]
    if rt is CRD_RT:
        return [name, meta.get("creationTimestamp", "")]
    return [name, _age(o)]


def make_table(rt: RT, objs: list, include: str, rv: int) -> dict:
    rows = []
    for o in objs:
        row = {"cells": table_cells(rt, o)}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": o.get("metadata") or {}}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": table_columns(rt), "rows": rows}
