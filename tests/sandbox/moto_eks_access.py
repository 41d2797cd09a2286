"""EKS access entries for moto 5.2 (installed by moto_launch.py before moto_server starts).

Stock moto has no access-entry API: `aws eks create-access-entry` gets an HTML 404.
`install()` adds, on moto's own EKS backend (so per account and region, like
every moto resource):

* the URL rules (`moto.eks.urls.url_paths`) for `/clusters/{name}/access-entries[/...]`
  and `/access-policies`;
* handlers on `moto.eks.responses.EKSResponse` for CreateAccessEntry,
  DescribeAccessEntry, ListAccessEntries, UpdateAccessEntry, DeleteAccessEntry,
  AssociateAccessPolicy, ListAssociatedAccessPolicies, DisassociateAccessPolicy and
  ListAccessPolicies.  moto finds the operation from botocore's service model
  (method + request URI, matched on the still percent-encoded path, so a
  principal ARN's `/` arrives as `%2F`) and serialises the result with it;
* `accessConfig.authenticationMode` on clusters: API_AND_CONFIG_MAP for clusters
  made by bin/eksctl (tag `alpha.eksctl.io/cluster-name`; eksctl's default),
  else the EKS API default CONFIG_MAP; an explicit `accessConfig` of
  CreateCluster / UpdateClusterConfig is honoured.  UpdateClusterConfig changes
  the mode only one step forward (CONFIG_MAP -> API_AND_CONFIG_MAP -> API) and
  answers with an `update` as EKS does; DescribeUpdate reads it back.

The entries live on moto's Cluster object, so deleting the cluster drops them.
Messages are the ones real EKS returns where they are known (see docs/sandbox.md).
"""

import json
import re
import secrets
import threading
from urllib.parse import parse_qs, unquote

EKSCTL_TAG = "alpha.eksctl.io/cluster-name"
AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
ENTRY_TYPES = ("STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX")
NODE_USERNAME = {"EC2_LINUX": "system:node:{{EC2PrivateDNSName}}", "EC2_WINDOWS": "system:node:{{EC2PrivateDNSName}}",
                 "EC2": "system:node:{{EC2PrivateDNSName}}"}
# access policies a user can associate (ListAccessPolicies returns these)
ACCESS_POLICIES = ("AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy", "AmazonEKSClusterAdminPolicy",
                   "AmazonEKSEditPolicy", "AmazonEKSViewPolicy")
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")

MSG_IN_USE = "The specified access entry resource is already in use on this cluster."
MSG_ENTRY_NOT_FOUND = ("The specified principalArn could not be found. "
                       "You can view your available access entries with 'list-access-entries'.")
MSG_INVALID_PRINCIPAL = "The specified principalArn is invalid: invalid principal."
MSG_GROUP = "The kubernetes group name %s is invalid, it cannot start with system:"
MSG_AUTH_MODE = ("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
                 "to perform this operation.")
# EKS moves the mode one step forward only; anything else, the same mode included, is refused
# with this text (seen from UpdateClusterConfig in pulumi/pulumi-eks#1493: CONFIG_MAP to API,
# and aws/aws-cdk#31032: API_AND_CONFIG_MAP to API_AND_CONFIG_MAP).
MODE_STEPS = {("CONFIG_MAP", "API_AND_CONFIG_MAP"), ("API_AND_CONFIG_MAP", "API")}
MSG_MODE_UPDATE = "Unsupported authentication mode update from %s to %s"

_PRINCIPAL = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):iam::(\d{12}):(role|user)/(.+)$")
_POLICY = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):eks::aws:cluster-access-policy/(.+)$")

_lock = threading.RLock()


def _exceptions():
    from moto.eks import exceptions
    return exceptions


def _not_found(cluster_name, message):
    return _exceptions().ResourceNotFoundException(
        clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None, message=message)


def _invalid(cluster_name, message):
    return _exceptions().InvalidParameterException(
        clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None, message=message)


def _invalid_request(cluster_name, message):
    return _exceptions().InvalidRequestException(
        clusterName=cluster_name, nodegroupName=None, addonName=None, message=message)


def _now():
    from moto.core.utils import utcnow
    return utcnow()


def _updates(cluster):
    d = cluster.__dict__.get("_sandbox_updates")
    if d is None:
        d = cluster.__dict__["_sandbox_updates"] = {}
    return d


def _entries(cluster):
    d = cluster.__dict__.get("_sandbox_access_entries")
    if d is None:
        d = cluster.__dict__["_sandbox_access_entries"] = {}
    return d


def _access_config(cluster):
    cfg = cluster.__dict__.get("access_config")
    if not isinstance(cfg, dict):
        cfg = cluster.__dict__["access_config"] = {"authenticationMode": "CONFIG_MAP"}
    return cfg


def _principal_exists(arn, partition, account):
    """Whether an IAM role or user with exactly this ARN exists in moto (in the principal's account)
    and has propagated."""
    from moto.iam.models import iam_backends
    try:
        backend = iam_backends[account][partition]
    except KeyError:
        return False
    import moto_iam_principals

    # EKS, like IAM, refuses a principal created moments ago until it has propagated.
    for item in list(backend.roles.values()) + list(backend.users.values()):
        if getattr(item, "arn", None) == arn:
            return moto_iam_principals.propagated(item)
    return False


def _page(items, max_results, next_token):
    start = 0
    if next_token:
        try:
            start = int(next_token)
        except ValueError:
            start = 0
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def _entry_view(e):
    return {k: e[k] for k in ("clusterName", "principalArn", "kubernetesGroups", "accessEntryArn", "createdAt",
                              "modifiedAt", "tags", "username", "type")}


def _policy_view(p):
    scope = {"type": p["accessScope"]["type"], "namespaces": list(p["accessScope"]["namespaces"])}
    return {"policyArn": p["policyArn"], "accessScope": scope, "associatedAt": p["associatedAt"],
            "modifiedAt": p["modifiedAt"]}


# ---------------------------------------------------------------- request helpers (bound to EKSResponse)

def _path_param(self, name):
    m = getattr(self, "uri_match", None)
    if m is None:
        self._get_action()
        m = self.uri_match
    value = m.group(name) if m is not None else None
    return unquote(value) if value is not None else None


def _body(self):
    body = self.body
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if not body:
        return {}
    try:
        obj = json.loads(body)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _query(self, name):
    values = parse_qs(self.parsed_url.query, keep_blank_values=True).get(name)
    return values[0] if values else None


def _max_results(self):
    raw = _query(self, "maxResults")
    try:
        n = int(raw) if raw is not None else 100
    except ValueError:
        n = 100
    return max(1, min(n, 100))


def _cluster(self, name):
    """The cluster of this account and region, which must allow access entries."""
    cluster = self.eks_backend.describe_cluster(name=name)  # ResourceNotFoundException like moto's own calls
    if _access_config(cluster).get("authenticationMode") == "CONFIG_MAP":
        raise _invalid_request(name, MSG_AUTH_MODE)
    return cluster


def _entry(self, name, principal_arn):
    cluster = _cluster(self, name)
    entry = _entries(cluster).get(principal_arn)
    if entry is None:
        raise _not_found(name, MSG_ENTRY_NOT_FOUND)
    return cluster, entry


def _check_groups(name, groups):
    if groups is None:
        return []
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _invalid(name, "kubernetesGroups must be a list of strings.")
    for g in groups:
        if g.startswith("system:"):
            raise _invalid(name, MSG_GROUP % g)
    return list(groups)


def _check_username(name, username):
    for prefix in RESERVED_USERNAME_PREFIXES:
        if username.startswith(prefix):
            raise _invalid(name, "The username %s is invalid, it cannot start with %s" % (username, prefix))


def _check_policy(name, policy_arn):
    m = _POLICY.match(policy_arn or "")
    if not m or m.group(2) not in ACCESS_POLICIES:
        raise _invalid(name, "The specified policyArn is invalid: %s" % (policy_arn,))


# ---------------------------------------------------------------- operations

def create_access_entry(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    body = _body(self)
    principal_arn = body.get("principalArn") or ""
    entry_type = body.get("type") or "STANDARD"
    with _lock:
        cluster = _cluster(self, name)
        if principal_arn in _entries(cluster):
            raise _exceptions().ResourceInUseException(
                clusterName=name, nodegroupName=None, addonName=None, message=MSG_IN_USE)
        m = _PRINCIPAL.match(principal_arn)
        if not m or m.group(4).endswith("/") or "//" in m.group(4):
            raise _invalid(name, MSG_INVALID_PRINCIPAL)
        partition, p_account, kind, path_name = m.groups()
        if entry_type not in ENTRY_TYPES:
            raise _invalid(name, "The type %s is not valid. Valid values are [%s]"
                           % (entry_type, ", ".join(ENTRY_TYPES)))
        if not _principal_exists(principal_arn, partition, p_account):
            raise _invalid(name, MSG_INVALID_PRINCIPAL)
        groups = _check_groups(name, body.get("kubernetesGroups"))
        username = body.get("username")
        role_name = path_name.rsplit("/", 1)[-1]
        if entry_type != "STANDARD":
            if kind != "role" or p_account != self.current_account:
                raise _invalid(name, "Access entries of type %s must use an IAM role of the cluster's account."
                               % entry_type)
            if groups or username:
                raise _invalid(name, "kubernetesGroups and username cannot be set on an access entry of type %s."
                               % entry_type)
            username = NODE_USERNAME.get(entry_type, "system:node:{{SessionName}}")
        elif username:
            _check_username(name, username)
        elif kind == "user":
            username = principal_arn
        else:
            username = "arn:%s:sts::%s:assumed-role/%s/{{SessionName}}" % (partition, p_account, role_name)
        tags = body.get("tags") or {}
        uid = secrets.token_hex(16)
        arn = "%s:access-entry/%s/%s/%s/%s/%s" % (
            cluster.arn.split(":cluster/")[0], name, kind, p_account, role_name,
            "-".join((uid[:8], uid[8:12], uid[12:16], uid[16:20], uid[20:])))
        now = _now()
        entry = {"clusterName": name, "principalArn": principal_arn, "kubernetesGroups": groups,
                 "accessEntryArn": arn, "createdAt": now, "modifiedAt": now, "tags": dict(tags),
                 "username": username, "type": entry_type, "policies": {}}
        _entries(cluster)[principal_arn] = entry
        return ActionResult({"accessEntry": _entry_view(entry)})


def describe_access_entry(self):
    from moto.core.responses import ActionResult

    with _lock:
        _, entry = _entry(self, _path_param(self, "name"), _path_param(self, "principalArn"))
        return ActionResult({"accessEntry": _entry_view(entry)})


def list_access_entries(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    policy = _query(self, "associatedPolicyArn")
    with _lock:
        cluster = _cluster(self, name)
        arns = [a for a, e in _entries(cluster).items() if not policy or policy in e["policies"]]
    page, token = _page(arns, _max_results(self), _query(self, "nextToken"))
    result = {"accessEntries": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def update_access_entry(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    body = _body(self)
    with _lock:
        _, entry = _entry(self, name, _path_param(self, "principalArn"))
        groups = body.get("kubernetesGroups")
        username = body.get("username")
        if entry["type"] != "STANDARD" and (groups or (username and username != entry["username"])):
            raise _invalid(name, "kubernetesGroups and username cannot be set on an access entry of type %s."
                           % entry["type"])
        if groups is not None:
            entry["kubernetesGroups"] = _check_groups(name, groups)
        if username and username != entry["username"]:
            _check_username(name, username)
            entry["username"] = username
        entry["modifiedAt"] = _now()
        return ActionResult({"accessEntry": _entry_view(entry)})


def delete_access_entry(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    principal_arn = _path_param(self, "principalArn")
    with _lock:
        cluster, _ = _entry(self, name, principal_arn)
        del _entries(cluster)[principal_arn]
    return ActionResult({})


def associate_access_policy(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    principal_arn = _path_param(self, "principalArn")
    body = _body(self)
    policy_arn = body.get("policyArn")
    scope = body.get("accessScope") or {}
    with _lock:
        _, entry = _entry(self, name, principal_arn)
        if entry["type"] not in ("STANDARD", "EC2"):
            raise _invalid(name, 'This operation can only be performed on Access Entries with a type of "STANDARD".')
        _check_policy(name, policy_arn)
        scope_type = scope.get("type")
        namespaces = scope.get("namespaces") or []
        if scope_type not in ("cluster", "namespace"):
            raise _invalid(name, "The access scope type %s is invalid. Valid values are [cluster, namespace]"
                           % (scope_type,))
        if scope_type == "namespace" and not namespaces:
            raise _invalid(name, "At least one namespace is required when the access scope type is namespace.")
        now = _now()
        old = entry["policies"].get(policy_arn)
        pol = {"policyArn": policy_arn, "accessScope": {"type": scope_type, "namespaces": list(namespaces)},
               "associatedAt": old["associatedAt"] if old else now, "modifiedAt": now}
        entry["policies"][policy_arn] = pol
        return ActionResult({"clusterName": name, "principalArn": principal_arn,
                             "associatedAccessPolicy": _policy_view(pol)})


def list_associated_access_policies(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    principal_arn = _path_param(self, "principalArn")
    with _lock:
        _, entry = _entry(self, name, principal_arn)
        policies = [_policy_view(p) for p in entry["policies"].values()]
    page, token = _page(policies, _max_results(self), _query(self, "nextToken"))
    result = {"clusterName": name, "principalArn": principal_arn, "associatedAccessPolicies": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


def disassociate_access_policy(self):
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    policy_arn = _path_param(self, "policyArn")
    with _lock:
        _, entry = _entry(self, name, _path_param(self, "principalArn"))
        if policy_arn not in entry["policies"]:
            raise _not_found(name, "The specified policyArn %s is not associated with the access entry."
                             % policy_arn)
        del entry["policies"][policy_arn]
    return ActionResult({})


def describe_update(self):
    """An update of UpdateClusterConfig: the sandbox applies it at once, so it is Successful."""
    from moto.core.responses import ActionResult

    name = _path_param(self, "name")
    update_id = _path_param(self, "updateId")
    with _lock:
        cluster = self.eks_backend.describe_cluster(name=name)
        update = _updates(cluster).get(update_id)
        if update is None:
            raise _not_found(name, "No update found with id: %s" % update_id)
        return ActionResult({"update": dict(update, status="Successful")})


def list_access_policies(self):
    from moto.core.responses import ActionResult

    partition = getattr(self, "partition", None) or "aws"
    policies = [{"name": n, "arn": "arn:%s:eks::aws:cluster-access-policy/%s" % (partition, n)}
                for n in ACCESS_POLICIES]
    page, token = _page(policies, _max_results(self), _query(self, "nextToken"))
    result = {"accessPolicies": page}
    if token:
        result["nextToken"] = token
    return ActionResult(result)


OPERATIONS = {f.__name__: f for f in (
    create_access_entry, describe_access_entry, list_access_entries, update_access_entry, delete_access_entry,
    associate_access_policy, list_associated_access_policies, disassociate_access_policy, list_access_policies,
    describe_update)}


# ---------------------------------------------------------------- authentication mode

def _wrap_cluster_calls(models, responses):
    original_init = models.Cluster.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        tags = getattr(self, "tags", None) or {}
        self.access_config = {"authenticationMode": "API_AND_CONFIG_MAP" if EKSCTL_TAG in tags else "CONFIG_MAP"}

    models.Cluster.__init__ = init

    original_create = responses.EKSResponse.create_cluster

    def create_cluster(self):
        mode = (_body(self).get("accessConfig") or {}).get("authenticationMode")
        if mode is not None and mode not in AUTH_MODES:
            raise _invalid(self._get_param("name"), "Unsupported authentication mode: %s" % mode)
        result = original_create(self)
        if mode is not None:
            cluster = self.eks_backend.clusters.get(self._get_param("name"))
            if cluster is not None:
                _access_config(cluster)["authenticationMode"] = mode
        return result

    create_cluster.__name__ = "create_cluster"
    responses.EKSResponse.create_cluster = create_cluster

    original_update = responses.EKSResponse.update_cluster_config

    def update_cluster_config(self):
        mode = (_body(self).get("accessConfig") or {}).get("authenticationMode")
        if mode is None:
            return original_update(self)
        from moto.core.responses import ActionResult

        name = _path_param(self, "name") or self._get_param("name")
        with _lock:
            cluster = self.eks_backend.describe_cluster(name=name)
            current = _access_config(cluster).get("authenticationMode", "CONFIG_MAP")
            if mode not in AUTH_MODES or (current, mode) not in MODE_STEPS:
                raise _invalid(name, MSG_MODE_UPDATE % (current, mode))
            _access_config(cluster)["authenticationMode"] = mode
            uid = secrets.token_hex(16)
            update = {"id": "-".join((uid[:8], uid[8:12], uid[12:16], uid[16:20], uid[20:])),
                      "status": "InProgress", "type": "AccessConfigUpdate",
                      "params": [{"type": "AuthenticationMode", "value": mode}],
                      "createdAt": _now(), "errors": []}
            _updates(cluster)[update["id"]] = update
        return ActionResult({"update": dict(update)})

    update_cluster_config.__name__ = "update_cluster_config"
    responses.EKSResponse.update_cluster_config = update_cluster_config


def install():
    from moto.eks import models, responses, urls

    handler = urls.response.dispatch
    urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/access-entries$": handler,
        # PATH_INFO is percent-decoded, so the principal ARN (and a policy ARN after it)
        # can hold '/': one greedy rule; moto picks the operation from the raw path
        "{0}/clusters/(?P<name>[^/]+)/access-entries/(?P<principalArn>.+)$": handler,
        "{0}/access-policies$": handler,
        "{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$": handler,
    })
    for op_name, fn in OPERATIONS.items():
        setattr(responses.EKSResponse, op_name, fn)
    _wrap_cluster_calls(models, responses)
