"""Label and field selectors: parsing the query parameters and matching objects.
"""
from __future__ import annotations

import re

from kube_errors import err_bad_request
from kube_names import is_qualified_name


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(s: str):
    reqs = []
    for part in _split_top(s or ""):
        m = re.match(r"^(\S+?)\s+(in|notin)\s+\((.*)\)$", part)
        if m:
            vals = {x.strip() for x in m.group(3).split(",") if x.strip()}
            reqs.append((m.group(1), m.group(2), vals))
            continue
        if part.startswith("!"):
            reqs.append((part[1:].strip(), "!", None))
            continue
        m = re.match(r"^([^=!<>\s]+)\s*(==|!=|=|>|<)\s*(\S*)$", part)
        if m:
            reqs.append((m.group(1), m.group(2), m.group(3)))
            continue
        if re.match(r"^[^=!<>\s(),]+$", part):
            reqs.append((part, "exists", None))
            continue
        raise err_bad_request(f"unable to parse requirement: found '{part}', expected: identifier")
    for key, _op, _v in reqs:
        if is_qualified_name(key):
            raise err_bad_request(f"unable to parse requirement: values[0][{key}]: Invalid value: "
                                  f"\"{key}\": {is_qualified_name(key)[0]}")
    return reqs


def label_match(reqs, labels: dict | None) -> bool:
    labels = labels or {}
    for key, op, val in reqs:
        has = key in labels
        cur = labels.get(key)
        if op in ("=", "=="):
            if cur != val:
                return False
        elif op == "!=":
            if has and cur == val:
                return False
        elif op == "in":
            if not has or cur not in val:
                return False
        elif op == "notin":
            if has and cur in val:
                return False
        elif op == "exists":
            if not has:
                return False
        elif op == "!":
            if has:
                return False
        elif op in (">", "<"):
            try:
                a, b = int(cur), int(val)
            except (TypeError, ValueError):
                return False
            if (op == ">" and not a > b) or (op == "<" and not a < b):
                return False
    return True


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """metav1.LabelSelector semantics (empty selector matches everything)."""
    if not selector:
        return True
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def selector_string(selector: dict | None) -> str:
    parts = [f"{k}={v}" for k, v in sorted((selector or {}).get("matchLabels", {}).items())]
    for e in (selector or {}).get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(sorted(e.get('values') or []))})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append("!" + e["key"])
    return ",".join(parts)


def parse_field_selector(s: str, rt) -> list:
    terms = []
    if not s:
        return terms
    # split on unescaped commas
    for part in re.split(r"(?<!\\),", s):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^(.*?)(==|!=|=)(.*)$", part)
        if not m:
            raise err_bad_request(f"invalid selector: '{s}'; can't understand '{part}'")
        key, op, val = m.group(1).strip(), m.group(2), m.group(3)
        val = val.replace("\\,", ",").replace("\\=", "=").replace("\\\\", "\\")
        if key not in ("metadata.name", "metadata.namespace") and key not in rt.field_labels:
            raise err_bad_request(f'"{key}" is not a known field selector: only "metadata.name", '
                                  f'"metadata.namespace"')
        terms.append((key, op, val))
    return terms


def _dotted(obj, path: str):
    cur = obj
    for p in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(p)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def field_match(terms, obj) -> bool:
    for key, op, val in terms:
        if key == "source":
            cur = _dotted(obj, "source.component")
        else:
            cur = _dotted(obj, key)
        if op in ("=", "==") and cur != val:
            return False
        if op == "!=" and cur == val:
            return False
    return True
