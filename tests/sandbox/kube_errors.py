"""API errors as the apiserver sends them (a metav1.Status), and field errors rendered as
apimachinery's field.Error renders them.
"""
from __future__ import annotations

import json


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
