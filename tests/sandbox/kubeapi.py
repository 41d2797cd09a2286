#!/usr/bin/env python3
"""Kubernetes API server emulator for the gitops-iam test sandbox (Python 3.11 stdlib only).

It is driven by the real kubectl 1.32 (and by plain JSON HTTP clients) over plain HTTP,
without TLS or authentication; with `--auth-config FILE` (the eksctl emulator's clusters) also
over TLS, authenticating and authorizing as EKS does (kubeauth.py, which needs `cryptography`).
See README-kubeapi.md next to this file.

    python3 kubeapi.py --port-file FILE [--host 127.0.0.1] [--rollout-delay 0.5]
                       [--seed FILE] [--log FILE] [--auth-config FILE]
"""
from __future__ import annotations

import argparse
import base64
import binascii
import bisect
import hashlib
import heapq
import http.server
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

K8S_VERSION = "v1.32.4"
VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": K8S_VERSION,
    "gitCommit": "59526cd4867447956156ae3a602fcbac5f1a4c0e",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T16:02:27Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
HASH_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
STOP = threading.Event()


def now_iso(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def parse_iso(s: str) -> float:
    try:
        import calendar
        return float(calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")))
    except Exception:
        return time.time()


def human_duration(seconds: float) -> str:
    """apimachinery duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def rand_suffix(n: int = 5) -> str:
    return "".join(random.choice(HASH_ALPHABET) for _ in range(n))


def stable_hash(value, n: int = 10) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).digest()
    return "".join(HASH_ALPHABET[b % len(HASH_ALPHABET)] for b in digest[:n])


def jdump(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def deep(obj):
    """Fast deep copy of JSON-like data."""
    return json.loads(json.dumps(obj))


# --------------------------------------------------------------------------------------
# API errors (metav1.Status)
# --------------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None,
                 log_detail: str = ""):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.log_detail = log_detail  # shown in the request log only (the client never sees it)

    def status(self) -> dict:
        st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
              "message": self.message}
        if self.reason:
            st["reason"] = self.reason
        if self.details is not None:
            st["details"] = self.details
        st["code"] = self.code
        return st


def _details(rt, name: str = "", **extra) -> dict:
    d = {}
    if name:
        d["name"] = name
    if rt is not None:
        if rt.group:
            d["group"] = rt.group
        d["kind"] = rt.plural
    d.update({k: v for k, v in extra.items() if v})
    return d


def err_not_found(rt, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def err_already_exists(rt, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))


def err_conflict(rt, name: str, msg: str = "the object has been modified; please apply your changes "
                                          "to the latest version and try again") -> ApiError:
    return ApiError(409, "Conflict", f'Operation cannot be fulfilled on {rt.qualified} "{name}": {msg}',
                    _details(rt, name))


def err_bad_request(msg: str) -> ApiError:
    return ApiError(400, "BadRequest", msg)


def err_forbidden(rt, name: str, msg: str) -> ApiError:
    what = f'{rt.qualified} "{name}"' if name else rt.qualified
    return ApiError(403, "Forbidden", f"{what} is forbidden: {msg}", _details(rt, name))


def err_generic(code: int, server_message: str = "") -> ApiError:
    """apimachinery errors.NewGenericServerResponse(code, "", GroupResource{}, "", msg, 0, false)."""
    table = {
        404: ("NotFound", "the server could not find the requested resource"),
        405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
        406: ("NotAcceptable", server_message or "the server was unable to respond with a content type "
                                                 "that the client supports"),
        415: ("UnsupportedMediaType", server_message),
        422: ("Invalid", "the server rejected our request due to an error in our request"),
    }
    reason, message = table.get(code, ("InternalError", f'an error on the server ("{server_message}") has '
                                                         f'prevented the request from succeeding'))
    return ApiError(code, reason, message, {}, log_detail=server_message)


def err_internal(msg: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {msg}",
                    {"causes": [{"message": msg}]})


class GoRepr:
    """A bad value that is already rendered in Go syntax."""

    def __init__(self, s):
        self.s = s


def go_quote(s: str) -> str:
    """Go's %q for typical strings."""
    return json.dumps(s, ensure_ascii=False)


def go_value(v) -> str:
    """Approximation of the way field.Error renders a bad value."""
    if isinstance(v, GoRepr):
        return v.s
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return go_quote(v)
    if v is None:
        return '"null"'
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
        inner = ", ".join(f"{go_quote(k)}:{go_quote(x)}" for k, x in sorted(v.items()))
        return "map[string]string{" + inner + "}"
    return json.dumps(v, sort_keys=True)


class FieldError:
    TYPES = {
        "Invalid": ("FieldValueInvalid", "Invalid value"),
        "Required": ("FieldValueRequired", "Required value"),
        "Forbidden": ("FieldValueForbidden", "Forbidden"),
        "Duplicate": ("FieldValueDuplicate", "Duplicate value"),
        "NotFound": ("FieldValueNotFound", "Not found"),
        "NotSupported": ("FieldValueNotSupported", "Unsupported value"),
        "TooLong": ("FieldValueTooLong", "Too long"),
    }

    def __init__(self, etype: str, field: str, value=None, detail: str = ""):
        self.etype, self.field, self.value, self.detail = etype, field, value, detail

    def body(self) -> str:
        _, label = self.TYPES[self.etype]
        if self.etype in ("Required", "Forbidden", "TooLong"):
            s = label
        else:
            s = f"{label}: {go_value(self.value)}"
        if self.detail:
            s += f": {self.detail}"
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> dict:
        return {"reason": self.TYPES[self.etype][0], "message": self.body(), "field": self.field}


def err_invalid(rt, name: str, errs: list[FieldError]) -> ApiError:
    seen, uniq = set(), []
    for e in errs:
        if str(e) not in seen:
            seen.add(str(e))
            uniq.append(e)
    agg = str(uniq[0]) if len(uniq) == 1 else "[" + ", ".join(str(e) for e in uniq) + "]"
    qkind = rt.qualified_kind if rt is not None else ""
    details = {"name": name} if name else {}
    if rt is not None:
        if rt.group:
            details["group"] = rt.group
        details["kind"] = rt.kind
    details["causes"] = [e.cause() for e in errs]
    return ApiError(422, "Invalid", f'{qkind} "{name}" is invalid: {agg}', details)


# --------------------------------------------------------------------------------------
# Validation helpers (k8s.io/apimachinery/pkg/util/validation)
# --------------------------------------------------------------------------------------

QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QNAME_RE = re.compile("^" + QNAME_FMT + "$")
QNAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character")
LABEL_VALUE_FMT = "(" + QNAME_FMT + ")?"
LABEL_VALUE_RE = re.compile("^" + LABEL_VALUE_FMT + "$")
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_RE = re.compile("^" + DNS1123_LABEL_FMT + "$")
DNS1123_SUB_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUB_RE = re.compile("^" + DNS1123_SUB_FMT + "$")
DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_RE = re.compile("^" + DNS1035_FMT + "$")
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_KEY_RE = re.compile("^" + CONFIG_KEY_FMT + "$")
ENV_NAME_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
ENV_NAME_RE = re.compile("^" + ENV_NAME_FMT + "$")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{ex}', "
    return msg + f"regex used for validation is '{fmt}')"


def is_dns1123_subdomain(v: str) -> list[str]:
    errs = []
    if len(v) > 253:
        errs.append("must be no more than 253 characters")
    if not DNS1123_SUB_RE.match(v):
        errs.append(regex_error("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                "characters, '-' or '.', and must start and end with an alphanumeric "
                                "character", DNS1123_SUB_FMT, "example.com"))
    return errs


def is_dns1123_label(v: str) -> list[str]:
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not DNS1123_LABEL_RE.match(v):
        if DNS1123_SUB_RE.match(v):
            errs.append("must not contain dots")
        else:
            errs.append(regex_error("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                                    "characters or '-', and must start and end with an alphanumeric "
                                    "character", DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1035_label(v: str) -> list[str]:
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not DNS1035_RE.match(v):
        errs.append(regex_error("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                                "start with an alphabetic character, and end with an alphanumeric character",
                                DNS1035_FMT, "my-name", "abc-123"))
    return errs


def is_qualified_name(v: str) -> list[str]:
    errs = []
    parts = v.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name " + regex_error(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not QNAME_RE.match(name):
        errs.append("name part " + regex_error(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(v: str) -> list[str]:
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not LABEL_VALUE_RE.match(v):
        errs.append(regex_error("a valid label must be an empty string or consist of alphanumeric characters, "
                                "'-', '_' or '.', and must start and end with an alphanumeric character",
                                LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_config_key(v: str) -> list[str]:
    errs = []
    if len(v) > 253:
        errs.append("must be no more than 253 characters")
    if not CONFIG_KEY_RE.match(v):
        errs.append(regex_error("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if v == ".":
        errs.append("must not be '.'")
    elif v == "..":
        errs.append("must not be '..'")
    elif v.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_env_var_name(v: str) -> list[str]:
    errs = []
    if not ENV_NAME_RE.match(v):
        errs.append(regex_error("a valid environment variable name must consist of alphabetic characters, "
                                "digits, '_', '-', or '.', and must not start with a digit",
                                ENV_NAME_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
    if v == ".":
        errs.append("must not be '.'")
    elif v == "..":
        errs.append("must not be '..'")
    elif v.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def validate_labels(labels, path: str) -> list[FieldError]:
    errs = []
    if not isinstance(labels, dict):
        return errs
    for k, v in labels.items():
        errs += [FieldError("Invalid", path, k, m) for m in is_qualified_name(k)]
        errs += [FieldError("Invalid", path, v, m) for m in is_label_value(v if isinstance(v, str) else "")]
    return errs


# apimachinery `TotalAnnotationSizeLimitB`: the sum of the keys' and values' lengths. Client-side
# apply copies the whole object into last-applied-configuration, so a bigger object needs
# server-side apply.
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_annotations(ann, path: str) -> list[FieldError]:
    errs = []
    if not isinstance(ann, dict):
        return errs
    total = 0
    for k, v in ann.items():
        errs += [FieldError("Invalid", path, k, m) for m in is_qualified_name(k.lower())]
        total += len(k) + len(v if isinstance(v, str) else "")
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        # apimachinery `ValidateAnnotations` + `field.TooLong` (v1.32): "Too long: must have at most N bytes"
        errs.append(FieldError("TooLong", path, None, f"must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"))
    return errs


def validate_object_meta(meta: dict, namespaced: bool, name_fn, path: str = "metadata") -> list[FieldError]:
    errs = []
    gen_name = meta.get("generateName") or ""
    if gen_name:
        errs += [FieldError("Invalid", path + ".generateName", gen_name, m) for m in name_fn(gen_name, True)]
    name = meta.get("name") or ""
    if not name:
        errs.append(FieldError("Required", path + ".name", None, "name or generateName is required"))
    else:
        errs += [FieldError("Invalid", path + ".name", name, m) for m in name_fn(name, False)]
    if namespaced:
        ns = meta.get("namespace") or ""
        if not ns:
            errs.append(FieldError("Required", path + ".namespace"))
        else:
            errs += [FieldError("Invalid", path + ".namespace", ns, m) for m in is_dns1123_label(ns)]
    errs += validate_labels(meta.get("labels"), path + ".labels")
    errs += validate_annotations(meta.get("annotations"), path + ".annotations")
    return errs


def name_subdomain(name: str, prefix: bool) -> list[str]:
    if prefix:
        name = name + "a"  # generateName: validate as if a suffix were appended
    return is_dns1123_subdomain(name)


def name_label(name: str, prefix: bool) -> list[str]:
    if prefix:
        name = name + "a"
    return is_dns1123_label(name)


def name_dns1035(name: str, prefix: bool) -> list[str]:
    if prefix:
        name = name + "a"
    return is_dns1035_label(name)


def name_any(name: str, prefix: bool) -> list[str]:
    errs = []
    if name in (".", ".."):
        errs.append(f"may not be '{name}'")
    if "/" in name:
        errs.append("may not contain '/'")
    if "%" in name:
        errs.append("may not contain '%'")
    return errs


# --------------------------------------------------------------------------------------
# Protobuf decoding (k8s.io/apimachinery runtime.Unknown envelope + typed messages)
# --------------------------------------------------------------------------------------

PB_SCALARS = {"string", "bytes", "int32", "int64", "bool", "double", "float", "uint32", "uint64",
              "sint32", "sint64", "fixed32", "fixed64"}
PB_INLINE = {"localObjectReference", "volumeSource", "handler", "ephemeralContainerCommon"}
# optional pointer fields whose zero value carries meaning (so a decoded 0/false must be kept)
PB_KEEP_ZERO = {"replicas", "partition", "immutable", "automountServiceAccountToken",
                "terminationGracePeriodSeconds", "revisionHistoryLimit", "progressDeadlineSeconds",
                "runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "privileged", "readOnlyRootFilesystem",
                "allowPrivilegeEscalation", "defaultMode", "optional", "enableServiceLinks", "hostUsers",
                "activeDeadlineSeconds", "priority", "mode", "expirationSeconds", "unschedulable",
                "allocateLoadBalancerNodePorts", "setHostnameAsFQDN", "shareProcessNamespace"}
_SCHEMA: dict | None = None
_SCHEMA_BY_JSON: dict = {}


def proto_schema() -> dict:
    global _SCHEMA
    if _SCHEMA is None:
        msgs = {}
        for line in PROTO_SCHEMA.strip().splitlines():
            parts = line.split()
            fields = {}
            for p in parts[1:]:
                num, fname, code = p.split(":", 2)
                fields[int(num)] = (fname, code)
            msgs[parts[0]] = fields
        _SCHEMA = msgs
    return _SCHEMA


def json_fields(msg: str) -> dict:
    """json field name -> type code for a message, with inline (embedded) structs flattened."""
    cached = _SCHEMA_BY_JSON.get(msg)
    if cached is not None:
        return cached
    out = {}
    for _num, (fname, code) in proto_schema().get(msg, {}).items():
        if fname in PB_INLINE and code in proto_schema():
            out.update(json_fields(code))
        else:
            out[fname] = code
    _SCHEMA_BY_JSON[msg] = out
    return out


def _pb_varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise ValueError("varint too long")


def pb_fields(buf: bytes):
    i = 0
    while i < len(buf):
        key, i = _pb_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            val, i = _pb_varint(buf, i)
        elif wt == 1:
            val = buf[i:i + 8]
            i += 8
        elif wt == 2:
            ln, i = _pb_varint(buf, i)
            val = buf[i:i + ln]
            if len(val) != ln:
                raise ValueError("truncated field")
            i += ln
        elif wt == 5:
            val = buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        yield num, wt, val


def _signed(v: int, bits: int) -> int:
    v &= (1 << 64) - 1
    if v >= 1 << 63:
        v -= 1 << 64
    if bits == 32:
        v = ((v + (1 << 31)) % (1 << 32)) - (1 << 31)
    return v


def _pb_scalar(t: str, wt: int, val):
    if t == "string":
        return val.decode("utf-8")
    if t == "bytes":
        return base64.b64encode(val).decode()
    if t == "bool":
        return bool(val)
    if t in ("int32", "int64"):
        return _signed(val, 32 if t == "int32" else 64)
    if t in ("uint32", "uint64"):
        return val
    if t in ("sint32", "sint64"):
        return (val >> 1) ^ -(val & 1)
    if t == "double":
        return struct.unpack("<d", val)[0]
    if t == "float":
        return struct.unpack("<f", val)[0]
    if t in ("fixed32", "fixed64"):
        return int.from_bytes(val, "little")
    raise ValueError(t)


def pb_decode(buf: bytes, msg: str):
    if msg in ("Time", "MicroTime"):
        secs = 0
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                secs = _signed(val, 64)
        return now_iso(secs) if secs else None
    if msg in ("Quantity", "QuantityValue"):
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                return val.decode()
        return "0"
    if msg == "IntOrString":
        typ, iv, sv = 0, 0, ""
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                typ = val
            elif num == 2:
                iv = _signed(val, 32)
            elif num == 3:
                sv = val.decode()
        return sv if typ == 1 else iv
    if msg in ("FieldsV1", "RawExtension"):
        for num, _wt, val in pb_fields(buf):
            if num == 1 and val:
                try:
                    return json.loads(val)
                except ValueError:
                    return None
        return None
    if msg == "Duration":
        for num, _wt, val in pb_fields(buf):
            if num == 1:
                return f"{_signed(val, 64) / 1e9:g}s"
        return "0s"
    schema = proto_schema().get(msg)
    if schema is None:
        return None
    out: dict = {}
    for num, wt, val in pb_fields(buf):
        if num not in schema:
            continue
        fname, code = schema[num]
        if code.startswith("m:"):
            vt = code[2:]
            k, v = "", None
            for n2, wt2, v2 in pb_fields(val):
                if n2 == 1:
                    k = v2.decode()
                elif n2 == 2:
                    v = _pb_scalar(vt, wt2, v2) if vt in PB_SCALARS else pb_decode(v2, vt)
            if v is None:
                v = "" if vt in ("string", "bytes") else v
            out.setdefault(fname, {})[k] = v
        elif code.startswith("*"):
            t = code[1:]
            lst = out.setdefault(fname, [])
            if t in PB_SCALARS and t not in ("string", "bytes") and wt == 2:
                j = 0
                while j < len(val):  # packed encoding
                    x, j = _pb_varint(val, j)
                    lst.append(_pb_scalar(t, 0, x))
            elif t in PB_SCALARS:
                lst.append(_pb_scalar(t, wt, val))
            else:
                item = pb_decode(val, t)
                lst.append({} if item is None else item)
        elif code in PB_SCALARS:
            v = _pb_scalar(code, wt, val)
            if (v == "" or v is False or (type(v) is int and v == 0)) and fname not in PB_KEEP_ZERO:
                continue
            out[fname] = v
        else:
            v = pb_decode(val, code)
            if v is None or (isinstance(v, dict) and not v and code not in (
                    "PodSecurityContext", "SecurityContext", "EmptyDirVolumeSource", "ResourceRequirements")):
                continue
            out[fname] = v
    for inl in PB_INLINE:
        if isinstance(out.get(inl), dict):
            out.update(out.pop(inl))
    for k in [k for k, v in out.items() if v == [] or v == {} and k in ("labels", "annotations")]:
        del out[k]
    return out


def decode_k8s_protobuf(body: bytes) -> dict:
    if not body.startswith(b"k8s\x00"):
        raise err_bad_request("provided protobuf data is missing the 'k8s\\x00' magic prefix")
    api_version = kind = ""
    raw = b""
    try:
        for num, _wt, val in pb_fields(body[4:]):
            if num == 1:
                for n2, _w2, v2 in pb_fields(val):
                    if n2 == 1:
                        api_version = v2.decode()
                    elif n2 == 2:
                        kind = v2.decode()
            elif num == 2:
                raw = val
        if kind not in proto_schema():
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - protobuf decoding of kind "
                           f"{kind!r} is not supported by this emulator; accepted media types include: "
                           f"application/json, application/yaml")
        obj = pb_decode(raw, kind) or {}
    except ApiError:
        raise
    except Exception as exc:  # malformed protobuf
        raise err_bad_request(f"unable to decode protobuf body: {exc}")
    out = {"apiVersion": api_version, "kind": kind}
    out.update(obj)
    return out


# --------------------------------------------------------------------------------------
# Schema conformance: type checks, unknown-field detection, pruning (like decoding into Go types)
# --------------------------------------------------------------------------------------

SPECIAL_MSGS = {"Time", "MicroTime", "Quantity", "QuantityValue", "IntOrString", "FieldsV1",
                "RawExtension", "Duration"}
GO_TYPES = {"string": "string", "bytes": "[]uint8", "int32": "int32", "int64": "int64", "bool": "bool",
            "double": "float64", "float": "float32"}


def _json_type(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


class Conformer:
    def __init__(self):
        self.unknown: list[str] = []
        self.type_errors: list[str] = []

    def _type_error(self, v, gotype: str, owner: str, path: str):
        self.type_errors.append(f"json: cannot unmarshal {_json_type(v)} into Go struct field "
                                f"{owner}.{path} of type {gotype}")

    def scalar(self, t: str, v, owner: str, path: str):
        if t == "string":
            if not isinstance(v, str):
                self._type_error(v, "string", owner, path)
            return v
        if t == "bytes":
            if not isinstance(v, str):
                self._type_error(v, "[]uint8", owner, path)
                return v
            try:
                base64.b64decode(v, validate=True)
            except (binascii.Error, ValueError):
                bad = next((i for i, ch in enumerate(v) if ch not in
                            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="), len(v))
                self.type_errors.append(f"illegal base64 data at input byte {bad}")
            return v
        if t in ("int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self._type_error(v, GO_TYPES.get(t, t), owner, path)
                return v
            if isinstance(v, float):
                if v != int(v):
                    self._type_error(v, GO_TYPES.get(t, t), owner, path)
                    return v
                return int(v)
            return v
        if t == "bool":
            if not isinstance(v, bool):
                self._type_error(v, "bool", owner, path)
            return v
        if t in ("double", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self._type_error(v, GO_TYPES[t], owner, path)
            return v
        return v

    def special(self, t: str, v, owner: str, path: str):
        if t in ("Time", "MicroTime", "Duration"):
            if not isinstance(v, str):
                self._type_error(v, "v1." + t, owner, path)
            return v
        if t in ("Quantity", "QuantityValue"):
            if isinstance(v, bool) or not isinstance(v, (str, int, float)):
                self.type_errors.append(f"quantities must match the regular expression "
                                        f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' ({path})")
            return v
        if t == "IntOrString":
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                self._type_error(v, "intstr.IntOrString", owner, path)
            return v
        return v  # FieldsV1 / RawExtension: anything

    def value(self, code: str, v, owner: str, path: str):
        if code.startswith("m:"):
            vt = code[2:]
            if not isinstance(v, dict):
                self._type_error(v, "map[string]" + GO_TYPES.get(vt, vt), owner, path)
                return v
            out = {}
            for k, x in v.items():
                if x is None:
                    continue
                out[k] = self.value(vt, x, owner, f"{path}[{k}]")
            return out
        if code.startswith("*"):
            t = code[1:]
            if not isinstance(v, list):
                self._type_error(v, "[]" + GO_TYPES.get(t, "v1." + t), owner, path)
                return v
            return [self.value(t, x, owner, f"{path}[{i}]") for i, x in enumerate(v) if x is not None]
        if code in PB_SCALARS:
            return self.scalar(code, v, owner, path)
        if code in SPECIAL_MSGS:
            return self.special(code, v, owner, path)
        return self.message(code, v, path)

    def message(self, msg: str, v, path: str, root: bool = False):
        fields = json_fields(msg)
        if not fields:
            return v
        if not isinstance(v, dict):
            self._type_error(v, "v1." + msg, msg, path or msg)
            return v
        out = {}
        allow_type_meta = root or "metadata" in fields
        for k, x in v.items():
            sub = f"{path}.{k}" if path else k
            if allow_type_meta and k in ("apiVersion", "kind"):
                if x is not None:
                    out[k] = self.scalar("string", x, msg, sub)
                continue
            code = fields.get(k)
            if code is None:
                self.unknown.append(sub)
                continue
            if x is None:
                continue
            nv = self.value(code, x, msg, sub)
            if (code.startswith("m:") or code.startswith("*")) and isinstance(nv, (dict, list)) and not nv:
                continue
            out[k] = nv
        return out


def conform(kind: str, obj: dict) -> tuple[dict, list[str], list[str]]:
    """Returns (pruned object, unknown field paths, type errors)."""
    if kind not in proto_schema():
        return obj, [], []
    c = Conformer()
    out = c.message(kind, obj, "", root=True)
    return out, c.unknown, c.type_errors


# --------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Patches: RFC 6902 JSON patch, RFC 7386 merge patch, strategic merge patch
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Resource registry
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Defaulting and validation per kind
# --------------------------------------------------------------------------------------

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




# --------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------

class Log:
    def __init__(self, path: str | None):
        self.lock = threading.Lock()
        self.fh = open(path, "a", buffering=1, encoding="utf-8") if path else sys.stderr

    def __call__(self, msg: str):
        line = f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {msg}\n"
        with self.lock:
            try:
                self.fh.write(line)
                self.fh.flush()
            except (OSError, ValueError):
                pass


LOG = Log(None)


# --------------------------------------------------------------------------------------
# The cluster: storage, semantics of the API verbs, and the workload controller
# --------------------------------------------------------------------------------------

class SAMissing(Exception):
    pass


def _spec_of(obj):
    return obj.get("spec") if isinstance(obj.get("spec"), dict) else {}


def _template_hash(tpl: dict) -> str:
    t = deep(tpl or {})
    (t.get("metadata") or {}).pop("creationTimestamp", None)
    return stable_hash(t)


def _strip_rv(obj: dict) -> dict:
    o = dict(obj)
    o["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion",
                                                                                     "managedFields")}
    return o


class Cluster:
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
                    self._admit_pod(obj)
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

    # ---- pods: admission (service account + EKS pod identity webhook) and fake kubelet ----
    def _admit_pod(self, pod: dict):
        spec = pod.setdefault("spec", {})
        ns = pod["metadata"].get("namespace", "")
        sa_name = spec.get("serviceAccountName") or "default"
        sa = self.get(SA_RT, ns, sa_name)
        if sa is None:
            if self.get(NS_RT, None, ns) is None:
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
        spec.setdefault("nodeName", self.node_name)
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
            "hostIP": self.node_ip, "hostIPs": [{"ip": self.node_ip}], "podIP": ip, "podIPs": [{"ip": ip}],
            "startTime": now, "containerStatuses": statuses, "qosClass": "BestEffort"}

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
        self._admit_pod(pod)
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


# --------------------------------------------------------------------------------------
# Discovery, OpenAPI and tables
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# HTTP layer
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Startup
# --------------------------------------------------------------------------------------

FAKE_CA_PEM = ("-----BEGIN CERTIFICATE-----\n"
               "MIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrOHMtZW11bGF0b3It\n"
               "Y2FAMTcwMDAwMDAwMDAeFw0yNDAxMDEwMDAwMDBaFw0zNDAxMDEwMDAwMDBaMCMxITAfBgNV\n"
               "BAMMGGs4cy1lbXVsYXRvci1jYUAxNzAwMDAwMDAwMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n"
               "-----END CERTIFICATE-----\n")


def seed_cluster(c: Cluster, seed_path: str | None):
    with c.lock:
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            c.create(NS_RT, None, {"metadata": {"name": ns}}, internal=True)
        c._internal_create(NODE_RT, {
            "metadata": {"name": c.node_name, "labels": {
                "kubernetes.io/hostname": c.node_name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "m5.large", "eks.amazonaws.com/nodegroup": "ng-1"}},
            "spec": {"providerID": "aws:///us-west-2a/i-0123456789abcdef0"},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status",
                                       "lastHeartbeatTime": now_iso(), "lastTransitionTime": now_iso()}],
                       "addresses": [{"type": "InternalIP", "address": c.node_ip},
                                     {"type": "Hostname", "address": c.node_name}],
                       "nodeInfo": {"kubeletVersion": "v1.32.3-eks-473151a", "osImage": "Amazon Linux 2023",
                                    "containerRuntimeVersion": "containerd://1.7.27",
                                    "architecture": "amd64", "operatingSystem": "linux"}}})
        c.create(rt_for("", "services"), "default", {"metadata": {
            "name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": "10.100.0.1", "ports": [{"name": "https", "port": 443, "targetPort": 443}]}},
            internal=True)
        if not seed_path:
            return
        with open(seed_path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict):
            data = data.get("items", []) if data.get("kind", "").endswith("List") else [data]
        for obj in data:
            gv, kind = obj.get("apiVersion", "v1"), obj.get("kind", "")
            rt = RT_BY_KIND.get((gv, kind))
            if rt is None:
                raise SystemExit(f"kubeapi: --seed: unsupported kind {gv} {kind}")
            ns = (obj.get("metadata") or {}).get("namespace") or ("default" if rt.namespaced else None)
            if rt.namespaced and c.get(NS_RT, None, ns) is None:
                c.create(NS_RT, None, {"metadata": {"name": ns}}, internal=True)
            existing = c.get(rt, ns, (obj.get("metadata") or {}).get("name", ""))
            if existing is not None and rt is NS_RT:
                continue
            if existing is not None:
                body = deep(obj)
                body.setdefault("metadata", {}).pop("resourceVersion", None)
                c.update(rt, ns, existing["metadata"]["name"], body)
            else:
                c.create(rt, ns, obj, internal=True)


def make_server(host: str, cluster: Cluster) -> Server:
    handler = type("BoundHandler", (Handler,), {"cluster": cluster})
    return Server((host, 0), handler)


def main(argv=None):
    global LOG
    ap = argparse.ArgumentParser(description="Kubernetes API server emulator (plain HTTP, no auth)")
    ap.add_argument("--port-file", required=True, help="file the listening port is written to")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rollout-delay", type=float, default=0.5,
                    help="seconds between a workload spec change and a finished rollout")
    ap.add_argument("--seed", help="JSON file with a list of objects to create at startup")
    ap.add_argument("--log", help="append one line per request to this file (default: stderr)")
    ap.add_argument("--auth-config", help="JSON: authenticate and authorize as EKS does (kubeauth.py)")
    args = ap.parse_args(argv)
    LOG = Log(args.log)
    cluster = Cluster(args.rollout_delay)
    if args.auth_config:
        import kubeauth

        with open(args.auth_config, encoding="utf-8") as fh:
            cluster.auth = kubeauth.Auth(json.load(fh))
    seed_cluster(cluster, args.seed)
    server = make_server(args.host, cluster)
    port = server.server_address[1]
    stop = threading.Event()
    tls_server = None
    if args.auth_config:
        # the kubeconfigs' server: TLS, with its CA (kubectl sends no credentials over plain HTTP)
        tls_server = make_server(args.host, cluster)
        tls_server.tls, ca = cluster.auth.tls_context(os.path.dirname(os.path.abspath(args.port_file)))
        info = f"{args.port_file}.tls"
        with open(info + ".tmp", "w", encoding="utf-8") as fh:
            json.dump({"port": tls_server.server_address[1], "ca": ca}, fh)
        os.replace(info + ".tmp", info)
        threading.Thread(target=tls_server.serve_forever, kwargs={"poll_interval": 0.2}, name="https",
                         daemon=True).start()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=cluster.controller_loop, name="controller", daemon=True).start()
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="http", daemon=True)
    serve.start()
    tmp = f"{args.port_file}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(f"{port}\n")
    os.replace(tmp, args.port_file)
    LOG(f"kubeapi emulator listening on http://{args.host}:{port} (rollout delay {args.rollout_delay}s, "
        f"pid {os.getpid()})")
    while not stop.wait(0.5):
        pass
    LOG("kubeapi emulator shutting down")
    STOP.set()
    with cluster.lock:
        cluster.watch_cond.notify_all()
        cluster.timer_cond.notify_all()
    server.shutdown()
    server.server_close()
    if tls_server is not None:
        tls_server.shutdown()
        tls_server.server_close()
    return 0


# Protobuf field numbers of the kinds whose protobuf bodies we decode (and whose JSON we type-check),
# extracted from k8s.io/api and k8s.io/apimachinery v0.32 generated.proto files.
# Format: Message num:jsonName:type ...   (type: scalar, Message, *repeated, m:map-value-type)
PROTO_SCHEMA = """
AWSElasticBlockStoreVolumeSource 1:volumeID:string 2:fsType:string 3:partition:int32 4:readOnly:bool
Affinity 1:nodeAffinity:NodeAffinity 2:podAffinity:PodAffinity 3:podAntiAffinity:PodAntiAffinity
AppArmorProfile 1:type:string 2:localhostProfile:string
AttachedVolume 1:name:string 2:devicePath:string
AzureDiskVolumeSource 1:diskName:string 2:diskURI:string 3:cachingMode:string 4:fsType:string 5:readOnly:bool 6:kind:string
AzureFileVolumeSource 1:secretName:string 2:shareName:string 3:readOnly:bool
CSIVolumeSource 1:driver:string 2:readOnly:bool 3:fsType:string 4:volumeAttributes:m:string 5:nodePublishSecretRef:LocalObjectReference
Capabilities 1:add:*string 2:drop:*string
CephFSVolumeSource 1:monitors:*string 2:path:string 3:user:string 4:secretFile:string 5:secretRef:LocalObjectReference 6:readOnly:bool
CinderVolumeSource 1:volumeID:string 2:fsType:string 3:readOnly:bool 4:secretRef:LocalObjectReference
ClientIPConfig 1:timeoutSeconds:int32
ClusterTrustBundleProjection 1:name:string 2:signerName:string 3:labelSelector:LabelSelector 4:path:string 5:optional:bool
Condition 1:type:string 2:status:string 3:observedGeneration:int64 4:lastTransitionTime:Time 5:reason:string 6:message:string
ConfigMap 1:metadata:ObjectMeta 2:data:m:string 3:binaryData:m:bytes 4:immutable:bool
ConfigMapEnvSource 1:localObjectReference:LocalObjectReference 2:optional:bool
ConfigMapKeySelector 1:localObjectReference:LocalObjectReference 2:key:string 3:optional:bool
ConfigMapNodeConfigSource 1:namespace:string 2:name:string 3:uid:string 4:resourceVersion:string 5:kubeletConfigKey:string
ConfigMapProjection 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 4:optional:bool
ConfigMapVolumeSource 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 3:defaultMode:int32 4:optional:bool
Container 1:name:string 2:image:string 3:command:*string 4:args:*string 5:workingDir:string 6:ports:*ContainerPort 7:env:*EnvVar 8:resources:ResourceRequirements 9:volumeMounts:*VolumeMount 10:livenessProbe:Probe 11:readinessProbe:Probe 12:lifecycle:Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:*EnvFromSource 20:terminationMessagePolicy:string 21:volumeDevices:*VolumeDevice 22:startupProbe:Probe 23:resizePolicy:*ContainerResizePolicy 24:restartPolicy:string
ContainerImage 1:names:*string 2:sizeBytes:int64
ContainerPort 1:name:string 2:hostPort:int32 3:containerPort:int32 4:protocol:string 5:hostIP:string
ContainerResizePolicy 1:resourceName:string 2:restartPolicy:string
ContainerState 1:waiting:ContainerStateWaiting 2:running:ContainerStateRunning 3:terminated:ContainerStateTerminated
ContainerStateRunning 1:startedAt:Time
ContainerStateTerminated 1:exitCode:int32 2:signal:int32 3:reason:string 4:message:string 5:startedAt:Time 6:finishedAt:Time 7:containerID:string
ContainerStateWaiting 1:reason:string 2:message:string
ContainerStatus 1:name:string 2:state:ContainerState 3:lastState:ContainerState 4:ready:bool 5:restartCount:int32 6:image:string 7:imageID:string 8:containerID:string 9:started:bool 10:allocatedResources:m:Quantity 11:resources:ResourceRequirements 12:volumeMounts:*VolumeMountStatus 13:user:ContainerUser 14:allocatedResourcesStatus:*ResourceStatus
ContainerUser 1:linux:LinuxContainerUser
DaemonEndpoint 1:Port:int32
Deployment 1:metadata:ObjectMeta 2:spec:DeploymentSpec 3:status:DeploymentStatus
DeploymentCondition 1:type:string 2:status:string 4:reason:string 5:message:string 6:lastUpdateTime:Time 7:lastTransitionTime:Time
DeploymentSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:strategy:DeploymentStrategy 5:minReadySeconds:int32 6:revisionHistoryLimit:int32 7:paused:bool 9:progressDeadlineSeconds:int32
DeploymentStatus 1:observedGeneration:int64 2:replicas:int32 3:updatedReplicas:int32 4:availableReplicas:int32 5:unavailableReplicas:int32 6:conditions:*DeploymentCondition 7:readyReplicas:int32 8:collisionCount:int32
DeploymentStrategy 1:type:string 2:rollingUpdate:RollingUpdateDeployment
DownwardAPIProjection 1:items:*DownwardAPIVolumeFile
DownwardAPIVolumeFile 1:path:string 2:fieldRef:ObjectFieldSelector 3:resourceFieldRef:ResourceFieldSelector 4:mode:int32
DownwardAPIVolumeSource 1:items:*DownwardAPIVolumeFile 2:defaultMode:int32
EmptyDirVolumeSource 1:medium:string 2:sizeLimit:Quantity
EnvFromSource 1:prefix:string 2:configMapRef:ConfigMapEnvSource 3:secretRef:SecretEnvSource
EnvVar 1:name:string 2:value:string 3:valueFrom:EnvVarSource
EnvVarSource 1:fieldRef:ObjectFieldSelector 2:resourceFieldRef:ResourceFieldSelector 3:configMapKeyRef:ConfigMapKeySelector 4:secretKeyRef:SecretKeySelector
EphemeralContainer 1:ephemeralContainerCommon:EphemeralContainerCommon 2:targetContainerName:string
EphemeralContainerCommon 1:name:string 2:image:string 3:command:*string 4:args:*string 5:workingDir:string 6:ports:*ContainerPort 7:env:*EnvVar 8:resources:ResourceRequirements 9:volumeMounts:*VolumeMount 10:livenessProbe:Probe 11:readinessProbe:Probe 12:lifecycle:Lifecycle 13:terminationMessagePath:string 14:imagePullPolicy:string 15:securityContext:SecurityContext 16:stdin:bool 17:stdinOnce:bool 18:tty:bool 19:envFrom:*EnvFromSource 20:terminationMessagePolicy:string 21:volumeDevices:*VolumeDevice 22:startupProbe:Probe 23:resizePolicy:*ContainerResizePolicy 24:restartPolicy:string
EphemeralVolumeSource 1:volumeClaimTemplate:PersistentVolumeClaimTemplate
Event 1:metadata:ObjectMeta 2:involvedObject:ObjectReference 3:reason:string 4:message:string 5:source:EventSource 6:firstTimestamp:Time 7:lastTimestamp:Time 8:count:int32 9:type:string 10:eventTime:MicroTime 11:series:EventSeries 12:action:string 13:related:ObjectReference 14:reportingComponent:string 15:reportingInstance:string
EventSeries 1:count:int32 2:lastObservedTime:MicroTime
EventSource 1:component:string 2:host:string
ExecAction 1:command:*string
FCVolumeSource 1:targetWWNs:*string 2:lun:int32 3:fsType:string 4:readOnly:bool 5:wwids:*string
FieldSelectorAttributes 1:rawSelector:string 2:requirements:*FieldSelectorRequirement
FieldSelectorRequirement 1:key:string 2:operator:string 3:values:*string
FieldsV1 1:Raw:bytes
FlexVolumeSource 1:driver:string 2:fsType:string 3:secretRef:LocalObjectReference 4:readOnly:bool 5:options:m:string
FlockerVolumeSource 1:datasetName:string 2:datasetUUID:string
GCEPersistentDiskVolumeSource 1:pdName:string 2:fsType:string 3:partition:int32 4:readOnly:bool
GRPCAction 1:port:int32 2:service:string
GitRepoVolumeSource 1:repository:string 2:revision:string 3:directory:string
GlusterfsVolumeSource 1:endpoints:string 2:path:string 3:readOnly:bool
HTTPGetAction 1:path:string 2:port:IntOrString 3:host:string 4:scheme:string 5:httpHeaders:*HTTPHeader
HTTPHeader 1:name:string 2:value:string
HostAlias 1:ip:string 2:hostnames:*string
HostIP 1:ip:string
HostPathVolumeSource 1:path:string 2:type:string
ISCSIVolumeSource 1:targetPortal:string 2:iqn:string 3:lun:int32 4:iscsiInterface:string 5:fsType:string 6:readOnly:bool 7:portals:*string 8:chapAuthDiscovery:bool 10:secretRef:LocalObjectReference 11:chapAuthSession:bool 12:initiatorName:string
ImageVolumeSource 1:reference:string 2:pullPolicy:string
IntOrString 1:type:int64 2:intVal:int32 3:strVal:string
KeyToPath 1:key:string 2:path:string 3:mode:int32
LabelSelector 1:matchLabels:m:string 2:matchExpressions:*LabelSelectorRequirement
LabelSelectorAttributes 1:rawSelector:string 2:requirements:*LabelSelectorRequirement
LabelSelectorRequirement 1:key:string 2:operator:string 3:values:*string
Lifecycle 1:postStart:LifecycleHandler 2:preStop:LifecycleHandler
LifecycleHandler 1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:sleep:SleepAction
LinuxContainerUser 1:uid:int64 2:gid:int64 3:supplementalGroups:*int64
ListMeta 1:selfLink:string 2:resourceVersion:string 3:continue:string 4:remainingItemCount:int64
LoadBalancerIngress 1:ip:string 2:hostname:string 3:ipMode:string 4:ports:*PortStatus
LoadBalancerStatus 1:ingress:*LoadBalancerIngress
LocalObjectReference 1:name:string
ManagedFieldsEntry 1:manager:string 2:operation:string 3:apiVersion:string 4:time:Time 6:fieldsType:string 7:fieldsV1:FieldsV1 8:subresource:string
MicroTime 1:seconds:int64 2:nanos:int32
ModifyVolumeStatus 1:targetVolumeAttributesClassName:string 2:status:string
NFSVolumeSource 1:server:string 2:path:string 3:readOnly:bool
Namespace 1:metadata:ObjectMeta 2:spec:NamespaceSpec 3:status:NamespaceStatus
NamespaceCondition 1:type:string 2:status:string 4:lastTransitionTime:Time 5:reason:string 6:message:string
NamespaceSpec 1:finalizers:*string
NamespaceStatus 1:phase:string 2:conditions:*NamespaceCondition
Node 1:metadata:ObjectMeta 2:spec:NodeSpec 3:status:NodeStatus
NodeAddress 1:type:string 2:address:string
NodeAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:NodeSelector 2:preferredDuringSchedulingIgnoredDuringExecution:*PreferredSchedulingTerm
NodeCondition 1:type:string 2:status:string 3:lastHeartbeatTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
NodeConfigSource 2:configMap:ConfigMapNodeConfigSource
NodeConfigStatus 1:assigned:NodeConfigSource 2:active:NodeConfigSource 3:lastKnownGood:NodeConfigSource 4:error:string
NodeDaemonEndpoints 1:kubeletEndpoint:DaemonEndpoint
NodeFeatures 1:supplementalGroupsPolicy:bool
NodeRuntimeHandler 1:name:string 2:features:NodeRuntimeHandlerFeatures
NodeRuntimeHandlerFeatures 1:recursiveReadOnlyMounts:bool 2:userNamespaces:bool
NodeSelector 1:nodeSelectorTerms:*NodeSelectorTerm
NodeSelectorRequirement 1:key:string 2:operator:string 3:values:*string
NodeSelectorTerm 1:matchExpressions:*NodeSelectorRequirement 2:matchFields:*NodeSelectorRequirement
NodeSpec 1:podCIDR:string 2:externalID:string 3:providerID:string 4:unschedulable:bool 5:taints:*Taint 6:configSource:NodeConfigSource 7:podCIDRs:*string
NodeStatus 1:capacity:m:Quantity 2:allocatable:m:Quantity 3:phase:string 4:conditions:*NodeCondition 5:addresses:*NodeAddress 6:daemonEndpoints:NodeDaemonEndpoints 7:nodeInfo:NodeSystemInfo 8:images:*ContainerImage 9:volumesInUse:*string 10:volumesAttached:*AttachedVolume 11:config:NodeConfigStatus 12:runtimeHandlers:*NodeRuntimeHandler 13:features:NodeFeatures
NodeSystemInfo 1:machineID:string 2:systemUUID:string 3:bootID:string 4:kernelVersion:string 5:osImage:string 6:containerRuntimeVersion:string 7:kubeletVersion:string 8:kubeProxyVersion:string 9:operatingSystem:string 10:architecture:string
NonResourceAttributes 1:path:string 2:verb:string
ObjectFieldSelector 1:apiVersion:string 2:fieldPath:string
ObjectMeta 1:name:string 2:generateName:string 3:namespace:string 4:selfLink:string 5:uid:string 6:resourceVersion:string 7:generation:int64 8:creationTimestamp:Time 9:deletionTimestamp:Time 10:deletionGracePeriodSeconds:int64 11:labels:m:string 12:annotations:m:string 13:ownerReferences:*OwnerReference 14:finalizers:*string 17:managedFields:*ManagedFieldsEntry
ObjectReference 1:kind:string 2:namespace:string 3:name:string 4:uid:string 5:apiVersion:string 6:resourceVersion:string 7:fieldPath:string
OwnerReference 1:kind:string 3:name:string 4:uid:string 5:apiVersion:string 6:controller:bool 7:blockOwnerDeletion:bool
PersistentVolumeClaim 1:metadata:ObjectMeta 2:spec:PersistentVolumeClaimSpec 3:status:PersistentVolumeClaimStatus
PersistentVolumeClaimCondition 1:type:string 2:status:string 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
PersistentVolumeClaimSpec 1:accessModes:*string 2:resources:VolumeResourceRequirements 3:volumeName:string 4:selector:LabelSelector 5:storageClassName:string 6:volumeMode:string 7:dataSource:TypedLocalObjectReference 8:dataSourceRef:TypedObjectReference 9:volumeAttributesClassName:string
PersistentVolumeClaimStatus 1:phase:string 2:accessModes:*string 3:capacity:m:Quantity 4:conditions:*PersistentVolumeClaimCondition 5:allocatedResources:m:Quantity 7:allocatedResourceStatuses:m:string 8:currentVolumeAttributesClassName:string 9:modifyVolumeStatus:ModifyVolumeStatus
PersistentVolumeClaimTemplate 1:metadata:ObjectMeta 2:spec:PersistentVolumeClaimSpec
PersistentVolumeClaimVolumeSource 1:claimName:string 2:readOnly:bool
PhotonPersistentDiskVolumeSource 1:pdID:string 2:fsType:string
Pod 1:metadata:ObjectMeta 2:spec:PodSpec 3:status:PodStatus
PodAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:*PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*WeightedPodAffinityTerm
PodAffinityTerm 1:labelSelector:LabelSelector 2:namespaces:*string 3:topologyKey:string 4:namespaceSelector:LabelSelector 5:matchLabelKeys:*string 6:mismatchLabelKeys:*string
PodAntiAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:*PodAffinityTerm 2:preferredDuringSchedulingIgnoredDuringExecution:*WeightedPodAffinityTerm
PodCondition 1:type:string 2:status:string 3:lastProbeTime:Time 4:lastTransitionTime:Time 5:reason:string 6:message:string
PodDNSConfig 1:nameservers:*string 2:searches:*string 3:options:*PodDNSConfigOption
PodDNSConfigOption 1:name:string 2:value:string
PodIP 1:ip:string
PodOS 1:name:string
PodReadinessGate 1:conditionType:string
PodResourceClaim 1:name:string 3:resourceClaimName:string 4:resourceClaimTemplateName:string
PodResourceClaimStatus 1:name:string 2:resourceClaimName:string
PodSchedulingGate 1:name:string
PodSecurityContext 1:seLinuxOptions:SELinuxOptions 2:runAsUser:int64 3:runAsNonRoot:bool 4:supplementalGroups:*int64 5:fsGroup:int64 6:runAsGroup:int64 7:sysctls:*Sysctl 8:windowsOptions:WindowsSecurityContextOptions 9:fsGroupChangePolicy:string 10:seccompProfile:SeccompProfile 11:appArmorProfile:AppArmorProfile 12:supplementalGroupsPolicy:string 13:seLinuxChangePolicy:string
PodSpec 1:volumes:*Volume 2:containers:*Container 3:restartPolicy:string 4:terminationGracePeriodSeconds:int64 5:activeDeadlineSeconds:int64 6:dnsPolicy:string 7:nodeSelector:m:string 8:serviceAccountName:string 9:serviceAccount:string 10:nodeName:string 11:hostNetwork:bool 12:hostPID:bool 13:hostIPC:bool 14:securityContext:PodSecurityContext 15:imagePullSecrets:*LocalObjectReference 16:hostname:string 17:subdomain:string 18:affinity:Affinity 19:schedulerName:string 20:initContainers:*Container 21:automountServiceAccountToken:bool 22:tolerations:*Toleration 23:hostAliases:*HostAlias 24:priorityClassName:string 25:priority:int32 26:dnsConfig:PodDNSConfig 27:shareProcessNamespace:bool 28:readinessGates:*PodReadinessGate 29:runtimeClassName:string 30:enableServiceLinks:bool 31:preemptionPolicy:string 32:overhead:m:Quantity 33:topologySpreadConstraints:*TopologySpreadConstraint 34:ephemeralContainers:*EphemeralContainer 35:setHostnameAsFQDN:bool 36:os:PodOS 37:hostUsers:bool 38:schedulingGates:*PodSchedulingGate 39:resourceClaims:*PodResourceClaim 40:resources:ResourceRequirements
PodStatus 1:phase:string 2:conditions:*PodCondition 3:message:string 4:reason:string 5:hostIP:string 6:podIP:string 7:startTime:Time 8:containerStatuses:*ContainerStatus 9:qosClass:string 10:initContainerStatuses:*ContainerStatus 11:nominatedNodeName:string 12:podIPs:*PodIP 13:ephemeralContainerStatuses:*ContainerStatus 14:resize:string 15:resourceClaimStatuses:*PodResourceClaimStatus 16:hostIPs:*HostIP
PodTemplateSpec 1:metadata:ObjectMeta 2:spec:PodSpec
PortStatus 1:port:int32 2:protocol:string 3:error:string
PortworxVolumeSource 1:volumeID:string 2:fsType:string 3:readOnly:bool
PreferredSchedulingTerm 1:weight:int32 2:preference:NodeSelectorTerm
Probe 1:handler:ProbeHandler 2:initialDelaySeconds:int32 3:timeoutSeconds:int32 4:periodSeconds:int32 5:successThreshold:int32 6:failureThreshold:int32 7:terminationGracePeriodSeconds:int64
ProbeHandler 1:exec:ExecAction 2:httpGet:HTTPGetAction 3:tcpSocket:TCPSocketAction 4:grpc:GRPCAction
ProjectedVolumeSource 1:sources:*VolumeProjection 2:defaultMode:int32
Quantity 1:string:string
QuobyteVolumeSource 1:registry:string 2:volume:string 3:readOnly:bool 4:user:string 5:group:string 6:tenant:string
RBDVolumeSource 1:monitors:*string 2:image:string 3:fsType:string 4:pool:string 5:user:string 6:keyring:string 7:secretRef:LocalObjectReference 8:readOnly:bool
ReplicaSet 1:metadata:ObjectMeta 2:spec:ReplicaSetSpec 3:status:ReplicaSetStatus
ReplicaSetCondition 1:type:string 2:status:string 3:lastTransitionTime:Time 4:reason:string 5:message:string
ReplicaSetSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:minReadySeconds:int32
ReplicaSetStatus 1:replicas:int32 2:fullyLabeledReplicas:int32 3:observedGeneration:int64 4:readyReplicas:int32 5:availableReplicas:int32 6:conditions:*ReplicaSetCondition
ResourceAttributes 1:namespace:string 2:verb:string 3:group:string 4:version:string 5:resource:string 6:subresource:string 7:name:string 8:fieldSelector:FieldSelectorAttributes 9:labelSelector:LabelSelectorAttributes
ResourceClaim 1:name:string 2:request:string
ResourceFieldSelector 1:containerName:string 2:resource:string 3:divisor:Quantity
ResourceHealth 1:resourceID:string 2:health:string
ResourceRequirements 1:limits:m:Quantity 2:requests:m:Quantity 3:claims:*ResourceClaim
ResourceStatus 1:name:string 2:resources:*ResourceHealth
RollingUpdateDeployment 1:maxUnavailable:IntOrString 2:maxSurge:IntOrString
RollingUpdateStatefulSetStrategy 1:partition:int32 2:maxUnavailable:IntOrString
SELinuxOptions 1:user:string 2:role:string 3:type:string 4:level:string
ScaleIOVolumeSource 1:gateway:string 2:system:string 3:secretRef:LocalObjectReference 4:sslEnabled:bool 5:protectionDomain:string 6:storagePool:string 7:storageMode:string 8:volumeName:string 9:fsType:string 10:readOnly:bool
SeccompProfile 1:type:string 2:localhostProfile:string
Secret 1:metadata:ObjectMeta 2:data:m:bytes 3:type:string 4:stringData:m:string 5:immutable:bool
SecretEnvSource 1:localObjectReference:LocalObjectReference 2:optional:bool
SecretKeySelector 1:localObjectReference:LocalObjectReference 2:key:string 3:optional:bool
SecretProjection 1:localObjectReference:LocalObjectReference 2:items:*KeyToPath 4:optional:bool
SecretVolumeSource 1:secretName:string 2:items:*KeyToPath 3:defaultMode:int32 4:optional:bool
SecurityContext 1:capabilities:Capabilities 2:privileged:bool 3:seLinuxOptions:SELinuxOptions 4:runAsUser:int64 5:runAsNonRoot:bool 6:readOnlyRootFilesystem:bool 7:allowPrivilegeEscalation:bool 8:runAsGroup:int64 9:procMount:string 10:windowsOptions:WindowsSecurityContextOptions 11:seccompProfile:SeccompProfile 12:appArmorProfile:AppArmorProfile
TokenRequest 1:metadata:ObjectMeta 2:spec:TokenRequestSpec 3:status:TokenRequestStatus
TokenRequestSpec 1:audiences:*string 3:boundObjectRef:BoundObjectReference 4:expirationSeconds:int64
TokenRequestStatus 1:token:string 2:expirationTimestamp:Time
BoundObjectReference 1:kind:string 2:apiVersion:string 3:name:string 4:uid:string
SelfSubjectReview 1:metadata:ObjectMeta 2:status:SelfSubjectReviewStatus
SelfSubjectReviewStatus 1:userInfo:UserInfo
UserInfo 1:username:string 2:uid:string 3:groups:*string
SelfSubjectAccessReview 1:metadata:ObjectMeta 2:spec:SelfSubjectAccessReviewSpec 3:status:SubjectAccessReviewStatus
SelfSubjectAccessReviewSpec 1:resourceAttributes:ResourceAttributes 2:nonResourceAttributes:NonResourceAttributes
Service 1:metadata:ObjectMeta 2:spec:ServiceSpec 3:status:ServiceStatus
ServiceAccount 1:metadata:ObjectMeta 2:secrets:*ObjectReference 3:imagePullSecrets:*LocalObjectReference 4:automountServiceAccountToken:bool
ServiceAccountTokenProjection 1:audience:string 2:expirationSeconds:int64 3:path:string
ServicePort 1:name:string 2:protocol:string 3:port:int32 4:targetPort:IntOrString 5:nodePort:int32 6:appProtocol:string
ServiceSpec 1:ports:*ServicePort 2:selector:m:string 3:clusterIP:string 4:type:string 5:externalIPs:*string 7:sessionAffinity:string 8:loadBalancerIP:string 9:loadBalancerSourceRanges:*string 10:externalName:string 11:externalTrafficPolicy:string 12:healthCheckNodePort:int32 13:publishNotReadyAddresses:bool 14:sessionAffinityConfig:SessionAffinityConfig 17:ipFamilyPolicy:string 18:clusterIPs:*string 19:ipFamilies:*string 20:allocateLoadBalancerNodePorts:bool 21:loadBalancerClass:string 22:internalTrafficPolicy:string 23:trafficDistribution:string
ServiceStatus 1:loadBalancer:LoadBalancerStatus 2:conditions:*Condition
SessionAffinityConfig 1:clientIP:ClientIPConfig
SleepAction 1:seconds:int64
StatefulSet 1:metadata:ObjectMeta 2:spec:StatefulSetSpec 3:status:StatefulSetStatus
StatefulSetCondition 1:type:string 2:status:string 3:lastTransitionTime:Time 4:reason:string 5:message:string
StatefulSetOrdinals 1:start:int32
StatefulSetPersistentVolumeClaimRetentionPolicy 1:whenDeleted:string 2:whenScaled:string
StatefulSetSpec 1:replicas:int32 2:selector:LabelSelector 3:template:PodTemplateSpec 4:volumeClaimTemplates:*PersistentVolumeClaim 5:serviceName:string 6:podManagementPolicy:string 7:updateStrategy:StatefulSetUpdateStrategy 8:revisionHistoryLimit:int32 9:minReadySeconds:int32 10:persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy 11:ordinals:StatefulSetOrdinals
StatefulSetStatus 1:observedGeneration:int64 2:replicas:int32 3:readyReplicas:int32 4:currentReplicas:int32 5:updatedReplicas:int32 6:currentRevision:string 7:updateRevision:string 9:collisionCount:int32 10:conditions:*StatefulSetCondition 11:availableReplicas:int32
StatefulSetUpdateStrategy 1:type:string 2:rollingUpdate:RollingUpdateStatefulSetStrategy
Status 1:metadata:ListMeta 2:status:string 3:message:string 4:reason:string 5:details:StatusDetails 6:code:int32
StatusCause 1:reason:string 2:message:string 3:field:string
StatusDetails 1:name:string 2:group:string 3:kind:string 4:causes:*StatusCause 5:retryAfterSeconds:int32 6:uid:string
StorageOSVolumeSource 1:volumeName:string 2:volumeNamespace:string 3:fsType:string 4:readOnly:bool 5:secretRef:LocalObjectReference
SubjectAccessReviewStatus 1:allowed:bool 2:reason:string 3:evaluationError:string 4:denied:bool
Sysctl 1:name:string 2:value:string
TCPSocketAction 1:port:IntOrString 2:host:string
Taint 1:key:string 2:value:string 3:effect:string 4:timeAdded:Time
Time 1:seconds:int64 2:nanos:int32
Toleration 1:key:string 2:operator:string 3:value:string 4:effect:string 5:tolerationSeconds:int64
TopologySpreadConstraint 1:maxSkew:int32 2:topologyKey:string 3:whenUnsatisfiable:string 4:labelSelector:LabelSelector 5:minDomains:int32 6:nodeAffinityPolicy:string 7:nodeTaintsPolicy:string 8:matchLabelKeys:*string
TypeMeta 1:apiVersion:string 2:kind:string
TypedLocalObjectReference 1:apiGroup:string 2:kind:string 3:name:string
TypedObjectReference 1:apiGroup:string 2:kind:string 3:name:string 4:namespace:string
Unknown 1:typeMeta:TypeMeta 2:raw:bytes 3:contentEncoding:string 4:contentType:string
Volume 1:name:string 2:volumeSource:VolumeSource
VolumeDevice 1:name:string 2:devicePath:string
VolumeMount 1:name:string 2:readOnly:bool 3:mountPath:string 4:subPath:string 5:mountPropagation:string 6:subPathExpr:string 7:recursiveReadOnly:string
VolumeMountStatus 1:name:string 2:mountPath:string 3:readOnly:bool 4:recursiveReadOnly:string
VolumeProjection 1:secret:SecretProjection 2:downwardAPI:DownwardAPIProjection 3:configMap:ConfigMapProjection 4:serviceAccountToken:ServiceAccountTokenProjection 5:clusterTrustBundle:ClusterTrustBundleProjection
VolumeResourceRequirements 1:limits:m:Quantity 2:requests:m:Quantity
VolumeSource 1:hostPath:HostPathVolumeSource 2:emptyDir:EmptyDirVolumeSource 3:gcePersistentDisk:GCEPersistentDiskVolumeSource 4:awsElasticBlockStore:AWSElasticBlockStoreVolumeSource 5:gitRepo:GitRepoVolumeSource 6:secret:SecretVolumeSource 7:nfs:NFSVolumeSource 8:iscsi:ISCSIVolumeSource 9:glusterfs:GlusterfsVolumeSource 10:persistentVolumeClaim:PersistentVolumeClaimVolumeSource 11:rbd:RBDVolumeSource 12:flexVolume:FlexVolumeSource 13:cinder:CinderVolumeSource 14:cephfs:CephFSVolumeSource 15:flocker:FlockerVolumeSource 16:downwardAPI:DownwardAPIVolumeSource 17:fc:FCVolumeSource 18:azureFile:AzureFileVolumeSource 19:configMap:ConfigMapVolumeSource 20:vsphereVolume:VsphereVirtualDiskVolumeSource 21:quobyte:QuobyteVolumeSource 22:azureDisk:AzureDiskVolumeSource 23:photonPersistentDisk:PhotonPersistentDiskVolumeSource 24:portworxVolume:PortworxVolumeSource 25:scaleIO:ScaleIOVolumeSource 26:projected:ProjectedVolumeSource 27:storageos:StorageOSVolumeSource 28:csi:CSIVolumeSource 29:ephemeral:EphemeralVolumeSource 30:image:ImageVolumeSource
VsphereVirtualDiskVolumeSource 1:volumePath:string 2:fsType:string 3:storagePolicyName:string 4:storagePolicyID:string
WeightedPodAffinityTerm 1:weight:int32 2:podAffinityTerm:PodAffinityTerm
WindowsSecurityContextOptions 1:gmsaCredentialSpecName:string 2:gmsaCredentialSpec:string 3:runAsUserName:string 4:hostProcess:bool
"""


if __name__ == "__main__":
    sys.exit(main())
