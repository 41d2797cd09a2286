"""JSON checked as decoding into the Go types would check it: type errors, unknown fields, and
pruning of what Go's omitempty drops.
"""
from __future__ import annotations

import base64
import binascii

from kube_protobuf import PB_SCALARS, json_fields, proto_schema

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
