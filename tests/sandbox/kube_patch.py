"""Patch semantics: RFC 6902 JSON patch (evanphx/json-patch v4), RFC 7386 merge patch and the
strategic merge patch. Pure functions on JSON-like data (test_kube_patch.py calls them directly).
"""
from __future__ import annotations

from kube_common import deep


class PatchError(Exception):
    pass


def _unescape(tok: str) -> str:
    return tok.replace("~1", "/").replace("~0", "~")


def _split_pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path}')
    return [_unescape(t) for t in path[1:].split("/")]


def _container(doc, tokens):
    """Return the parent container for tokens (None if missing)."""
    cur = doc
    for tok in tokens[:-1]:
        if isinstance(cur, dict):
            if tok not in cur:
                return None
            cur = cur[tok]
        elif isinstance(cur, list):
            try:
                idx = int(tok)
            except ValueError:
                return None
            if idx < 0 or idx >= len(cur):
                return None
            cur = cur[idx]
        else:
            return None
    if not isinstance(cur, (dict, list)):
        return None
    return cur


def _list_index(lst, tok: str, path: str, allow_end: bool) -> int:
    if tok == "-" and allow_end:
        return len(lst)
    try:
        idx = int(tok)
    except ValueError:
        raise PatchError(f"Unable to access invalid index: {tok}: invalid index referenced")
    limit = len(lst) if allow_end else len(lst) - 1
    if idx < 0 or idx > limit:
        raise PatchError(f"Unable to access invalid index: {idx}: invalid index referenced")
    return idx


def _get_ptr(doc, path: str):
    toks = _split_pointer(path)
    if not toks:
        return True, doc
    con = _container(doc, toks)
    if con is None:
        return False, None
    key = toks[-1]
    if isinstance(con, dict):
        return (key in con), con.get(key)
    try:
        idx = int(key)
    except ValueError:
        return False, None
    if 0 <= idx < len(con):
        return True, con[idx]
    return False, None


def json_patch(doc, ops):
    """evanphx/json-patch (v4) semantics.  Returns the patched document or raises PatchError."""
    if not isinstance(ops, list):
        raise ValueError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = deep(doc)
    for op in ops:
        if not isinstance(op, dict):
            raise ValueError("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        kind = op.get("op")
        path = op.get("path")
        if kind not in ("add", "remove", "replace", "move", "copy", "test"):
            raise PatchError(f"Unexpected kind: {kind}")
        if not isinstance(path, str):
            raise PatchError(f"{kind} operation failed to decode path: missing value")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{kind} operation missing value")
        toks = _split_pointer(path)
        if kind == "add":
            doc = _op_add(doc, toks, path, deep(op.get("value")))
        elif kind == "remove":
            doc, _ = _op_remove(doc, toks, path, "remove")
        elif kind == "replace":
            if not toks:
                doc = deep(op.get("value"))
                continue
            con = _container(doc, toks)
            if con is None:
                raise PatchError(f"replace operation does not apply: doc is missing path: {path}: missing value")
            key = toks[-1]
            if isinstance(con, dict):
                if key not in con:
                    raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
                con[key] = deep(op.get("value"))
            else:
                idx = _list_index(con, key, path, False)
                con[idx] = deep(op.get("value"))
        elif kind == "test":
            ok, cur = _get_ptr(doc, path)
            if not ok:
                if op.get("value") is None:
                    continue
                raise PatchError(f"testing value {path} failed: test failed")
            if cur != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        elif kind in ("move", "copy"):
            frm = op.get("from")
            if not isinstance(frm, str):
                raise PatchError(f"{kind} operation failed to decode from: missing value")
            ok, val = _get_ptr(doc, frm)
            if not ok:
                raise PatchError(f"{kind} operation does not apply: doc is missing from path: {frm}: missing value")
            if kind == "move":
                doc, val = _op_remove(doc, _split_pointer(frm), frm, "move")
            doc = _op_add(doc, toks, path, deep(val))
    return doc


def _op_add(doc, toks, path, value):
    if not toks:
        return value
    con = _container(doc, toks)
    if con is None:
        raise PatchError(f'add operation does not apply: doc is missing path: "{path}": missing value')
    key = toks[-1]
    if isinstance(con, dict):
        con[key] = value
    else:
        try:
            idx = _list_index(con, key, path, True)
        except PatchError as exc:
            raise PatchError(f"error in add for path: '{path}': {exc}")
        con.insert(idx, value)
    return doc


def _op_remove(doc, toks, path, what):
    if not toks:
        raise PatchError(f"{what} operation does not apply: doc is missing path: \"{path}\": missing value")
    con = _container(doc, toks)
    if con is None:
        raise PatchError(f"{what} operation does not apply: doc is missing path: \"{path}\": missing value")
    key = toks[-1]
    if isinstance(con, dict):
        if key not in con:
            raise PatchError(f"error in remove for path: '{path}': Unable to remove nonexistent key: {key}: "
                             f"missing value")
        return doc, con.pop(key)
    try:
        idx = _list_index(con, key, path, False)
    except PatchError as exc:
        raise PatchError(f"error in remove for path: '{path}': {exc}")
    return doc, con.pop(idx)


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return deep(patch)
    result = deep(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            result[k] = merge_patch(result.get(k), v)
        else:
            result[k] = deep(v)
    return result


# list field name -> merge key (strategic merge patch); lists not listed here are atomic (replaced)
SMP_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "imagePullSecrets": "name", "secrets": "name", "hostAliases": "ip", "conditions": "type",
    "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey", "schedulingGates": "name",
    "resourceClaims": "name", "podIPs": "ip", "hostIPs": "ip", "addresses": "type",
    "containerStatuses": None, "ports": "containerPort",
}
SMP_PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(field: str, items) -> str | None:
    key = SMP_MERGE_KEYS.get(field)
    if field == "ports":
        sample = [i for i in items if isinstance(i, dict)]
        if sample and all("containerPort" not in i and "port" in i for i in sample):
            return "port"
    return key


def strategic_merge(orig, patch):
    if not isinstance(patch, dict):
        return deep(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: deep(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = deep(orig) if isinstance(orig, dict) else {}
    orders = {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(v, list):
                result[field] = [x for x in result[field] if x not in v]
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            merged = strategic_merge(result.get(k), v)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list):
            result[k] = _smp_list(result.get(k), v, k)
        else:
            result[k] = deep(v)
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _smp_order(result[field], order, field)
    if isinstance(retain, list):
        for k in list(result.keys()):
            if k not in retain:
                del result[k]
    return result


def _smp_list(orig, patch_list, field):
    orig = orig if isinstance(orig, list) else []
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch_list):
        return [deep(i) for i in patch_list if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    if field in SMP_PRIMITIVE_MERGE:
        out = list(orig)
        for x in patch_list:
            if x not in out:
                out.append(deep(x))
        return out
    key = _merge_key(field, patch_list + orig)
    if not key or not all(isinstance(i, dict) for i in patch_list):
        return [deep(i) for i in patch_list if not (isinstance(i, dict) and "$patch" in i)]
    out = [deep(i) for i in orig]
    for item in patch_list:
        kv = item.get(key)
        idx = next((n for n, o in enumerate(out) if isinstance(o, dict) and o.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item))
        else:
            out[idx] = strategic_merge(out[idx], item)
    return out


def _smp_order(items, order, field):
    key = _merge_key(field, items)
    if key is None:
        return items
    def kv(x):
        return x.get(key) if isinstance(x, dict) else x
    wanted = [kv(o) for o in order]
    ordered = [next(i for i in items if kv(i) == w) for w in wanted if any(kv(i) == w for i in items)]
    rest = [i for i in items if kv(i) not in wanted]
    return ordered + rest
