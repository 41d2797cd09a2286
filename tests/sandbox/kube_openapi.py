"""Discovery (/api, /apis) and the OpenAPI v3 documents kubectl reads.
"""
from __future__ import annotations

import base64
import hashlib

from kube_common import K8S_VERSION
from kube_resources import POD_RT, RESOURCES


def api_resource_list(gv: str) -> dict:
    res = []
    for rt in RESOURCES:
        if rt.gv != gv:
            continue
        entry = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced, "kind": rt.kind,
                 "verbs": rt.verbs}
        if rt.short:
            entry["shortNames"] = rt.short
        if rt.categories:
            entry["categories"] = rt.categories
        entry["storageVersionHash"] = base64.b64encode(hashlib.sha256(rt.key.encode()).digest()[:8]).decode()
        res.append(entry)
        if rt.status:
            res.append({"name": rt.plural + "/status", "singularName": "", "namespaced": rt.namespaced,
                        "kind": rt.kind, "verbs": ["get", "patch", "update"]})
        if rt.scale:
            res.append({"name": rt.plural + "/scale", "singularName": "", "namespaced": rt.namespaced,
                        "group": "autoscaling", "version": "v1", "kind": "Scale",
                        "verbs": ["get", "patch", "update"]})
        if rt is POD_RT:
            res.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
                        "verbs": ["get"]})
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}


def api_groups() -> list:
    groups = []
    for g in sorted({rt.group for rt in RESOURCES if rt.group}):
        versions = [{"groupVersion": f"{g}/{v}", "version": v}
                    for v in sorted({rt.version for rt in RESOURCES if rt.group == g})]
        groups.append({"name": g, "versions": versions, "preferredVersion": versions[0]})
    return groups


def openapi_gvs() -> list[str]:
    return sorted({rt.gv for rt in RESOURCES})


def openapi_v3_doc(gv: str) -> dict:
    q = {"type": "string", "uniqueItems": True}
    paths = {}
    for rt in RESOURCES:
        if rt.gv != gv:
            continue
        prefix = f"/apis/{rt.gv}" if rt.group else "/api/v1"
        params = [{"name": "name", "in": "path", "description": f"name of the {rt.kind}", "required": True,
                   "schema": q}]
        if rt.namespaced:
            path = f"{prefix}/namespaces/{{namespace}}/{rt.plural}/{{name}}"
            params.append({"name": "namespace", "in": "path", "description": "object name and auth scope",
                           "required": True, "schema": q})
        else:
            path = f"{prefix}/{rt.plural}/{{name}}"
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        op_name = ("Core" if not rt.group else rt.group.split(".")[0].capitalize()) + "V1" + \
                  ("Namespaced" if rt.namespaced else "") + rt.kind
        item = {"parameters": params}
        if "get" in rt.verbs:
            item["get"] = {"operationId": "read" + op_name, "responses": {"200": {"description": "OK"}},
                           "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}
        if "patch" in rt.verbs:
            # No requestBody on purpose: kubectl apply then computes strategic merge patches from its
            # compiled-in types instead of needing full schemas here.
            item["patch"] = {
                "operationId": "patch" + op_name,
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": q},
                    {"name": "fieldManager", "in": "query", "schema": q},
                    {"name": "fieldValidation", "in": "query", "schema": q},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": True}}],
                "responses": {"200": {"description": "OK"}, "201": {"description": "Created"}},
                "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk}
        paths[path] = item
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": K8S_VERSION}, "paths": paths,
            "components": {"schemas": {}}}
