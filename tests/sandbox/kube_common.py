"""Shared by the kube emulator's modules: the version it reports, time, hash and JSON helpers,
the request log (LOG, opened by kubeapi.py's main) and the stop flag.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
import threading
import time

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


def _spec_of(obj):
    return obj.get("spec") if isinstance(obj.get("spec"), dict) else {}


def _strip_rv(obj: dict) -> dict:
    o = dict(obj)
    o["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("resourceVersion",
                                                                                     "managedFields")}
    return o


class Log:
    def __init__(self, path: str | None):
        self.lock = threading.Lock()
        self.fh = sys.stderr
        self.open(path)

    def open(self, path: str | None):
        if path:
            self.fh = open(path, "a", buffering=1, encoding="utf-8")

    def __call__(self, msg: str):
        line = f"{time.strftime('%H:%M:%S')}.{int(time.time() * 1000) % 1000:03d} {msg}\n"
        with self.lock:
            try:
                self.fh.write(line)
                self.fh.flush()
            except (OSError, ValueError):
                pass


LOG = Log(None)
