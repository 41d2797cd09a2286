"""The resource registry: the kinds served, their discovery attributes, and the kinds CRDs add.
"""
from __future__ import annotations

from kube_names import name_any, name_dns1035, name_label, name_subdomain

VERBS_ALL = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class RT:
    def __init__(self, group, version, plural, singular, kind, namespaced, short=(), status=False,
                 scale=False, name_fn=name_subdomain, field_labels=(), categories=(), verbs=None,
                 workload=False):
        self.group, self.version, self.plural, self.singular = group, version, plural, singular
        self.kind, self.namespaced, self.short = kind, namespaced, list(short)
        self.status, self.scale, self.name_fn = status, scale, name_fn
        self.field_labels = set(field_labels)
        self.categories = list(categories)
        self.verbs = verbs or VERBS_ALL
        self.workload = workload
        self.key = f"{group}/{plural}"

    @property
    def gv(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


RESOURCES = [
    RT("", "v1", "namespaces", "namespace", "Namespace", False, ["ns"], status=True, name_fn=name_label,
       field_labels=["status.phase"], verbs=["create", "delete", "get", "list", "patch", "update", "watch"]),
    RT("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ["sa"]),
    RT("", "v1", "configmaps", "configmap", "ConfigMap", True, ["cm"]),
    RT("", "v1", "secrets", "secret", "Secret", True, field_labels=["type"]),
    RT("", "v1", "pods", "pod", "Pod", True, ["po"], status=True, categories=["all"],
       field_labels=["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                     "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
                     "status.nominatedNodeName"]),
    RT("", "v1", "services", "service", "Service", True, ["svc"], status=True, name_fn=name_dns1035,
       categories=["all"]),
    RT("", "v1", "events", "event", "Event", True, ["ev"], name_fn=name_any,
       field_labels=["involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                     "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                     "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"]),
    RT("", "v1", "nodes", "node", "Node", False, ["no"], status=True, field_labels=["spec.unschedulable"]),
    RT("apps", "v1", "deployments", "deployment", "Deployment", True, ["deploy"], status=True, scale=True,
       categories=["all"], workload=True),
    RT("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ["sts"], status=True, scale=True,
       categories=["all"], workload=True),
    RT("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, ["rs"], status=True, scale=True,
       categories=["all"], field_labels=["status.replicas"], workload=True),
    RT("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
       "SelfSubjectAccessReview", False, verbs=["create"]),
    RT("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview",
       "SelfSubjectReview", False, verbs=["create"]),
    # Stored as given: no schema checks, no status conditions; the kind it defines is served
    # (register_crd), without its schema.
    RT("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
       "CustomResourceDefinition", False, ["crd", "crds"], status=True, categories=["api-extensions"]),
]
RT_BY_GV_PLURAL = {(r.gv, r.plural): r for r in RESOURCES}
RT_BY_KIND = {(r.gv, r.kind): r for r in RESOURCES}


def register_crd(crd: dict) -> RT | None:
    """Serve the kind a CustomResourceDefinition defines (its storage version), as the API server
    does once the CRD is established; the schema is not enforced."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    version = next((v["name"] for v in versions if v.get("storage")), versions[0]["name"] if versions else None)
    if not (spec.get("group") and names.get("plural") and names.get("kind") and version):
        return None
    gv = f"{spec['group']}/{version}"
    if (gv, names["plural"]) in RT_BY_GV_PLURAL:
        return RT_BY_GV_PLURAL[(gv, names["plural"])]
    rt = RT(spec["group"], version, names["plural"], names.get("singular") or names["kind"].lower(), names["kind"],
            spec.get("scope", "Namespaced") == "Namespaced", names.get("shortNames") or (),
            categories=names.get("categories") or ())
    RESOURCES.append(rt)
    RT_BY_GV_PLURAL[(gv, rt.plural)] = rt
    RT_BY_KIND[(gv, rt.kind)] = rt
    return rt


def rt_for(group: str, plural: str) -> RT:
    for r in RESOURCES:
        if r.group == group and r.plural == plural:
            return r
    raise KeyError(plural)


NS_RT = rt_for("", "namespaces")
CRD_RT = rt_for("apiextensions.k8s.io", "customresourcedefinitions")
SA_RT = rt_for("", "serviceaccounts")
CM_RT = rt_for("", "configmaps")
POD_RT = rt_for("", "pods")
NODE_RT = rt_for("", "nodes")
DEPLOY_RT = rt_for("apps", "deployments")
STS_RT = rt_for("apps", "statefulsets")
RS_RT = rt_for("apps", "replicasets")
