"""Name, label and annotation checks (k8s.io/apimachinery/pkg/util/validation) and ObjectMeta
validation, with the apiserver's messages.
"""
from __future__ import annotations

import re

from kube_errors import FieldError

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


def length_and_pattern(v: str, limit: int, regex, msg: str, fmt: str, *examples: str) -> list[str]:
    """The two checks most of apimachinery's validators make, in its order and words."""
    errs = []
    if len(v) > limit:
        errs.append(f"must be no more than {limit} characters")
    if not regex.match(v):
        errs.append(regex_error(msg, fmt, *examples))
    return errs


def is_dns1123_subdomain(v: str) -> list[str]:
    return length_and_pattern(v, 253, DNS1123_SUB_RE,
                              "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                              "characters, '-' or '.', and must start and end with an alphanumeric "
                              "character", DNS1123_SUB_FMT, "example.com")


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
    return length_and_pattern(v, 63, DNS1035_RE,
                              "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                              "start with an alphabetic character, and end with an alphanumeric character",
                              DNS1035_FMT, "my-name", "abc-123")


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
    return length_and_pattern(v, 63, LABEL_VALUE_RE,
                              "a valid label must be an empty string or consist of alphanumeric characters, "
                              "'-', '_' or '.', and must start and end with an alphanumeric character",
                              LABEL_VALUE_FMT, "MyValue", "my_value", "12345")


def is_config_key(v: str) -> list[str]:
    errs = length_and_pattern(v, 253, CONFIG_KEY_RE,
                              "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                              CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name")
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
