"""Answers injected into the Harness stand-in through `POST /_sandbox/fail-next`.

The real service fails in ways a test must be able to reproduce on purpose: a 5xx or 429 from
its gateway, an error body of Harness's own shape, a proxy's HTML page, a redirect. A fault is
the answer the stand-in gives instead of its own, to the calls it matches:

  POST /_sandbox/fail-next?status=503&count=1          the next call, any method and path
  POST /_sandbox/fail-next  {"status": 404, "method": "GET", "path": "/gitops/...",
                             "count": 2, "skip": 1, "body": ..., "content_type": "text/plain",
                             "headers": {"Location": "..."}}

`method` and `path` (exact, as the request names it) narrow the match; `skip` lets that many
matching calls through first; `count` -1 answers every later matching call.  `body` is sent
as is when a string, else as JSON (`content_type` null: no Content-Type header).  Without a
body the answer is Harness's error shape with code INTERNAL_SERVER_ERROR.  Faults apply in the
order they were queued; `DELETE /_sandbox/fail-next` drops them all.
"""

import json

import harness_agents

FIELDS = {"status", "count", "skip", "method", "path", "body", "content_type", "headers"}


class Fault:
    def __init__(self, status, count, skip, method, path, reply):
        self.status = status
        self.count = count
        self.skip = skip
        self.method = method
        self.path = path
        self._reply = reply

    @classmethod
    def parse(cls, query, spec):
        """The fault the query (`status`, `count`) and the JSON body describe; ValueError if bad."""
        if not isinstance(spec, dict) or set(spec) - FIELDS:
            raise ValueError("a fault is an object with fields %s" % ", ".join(sorted(FIELDS)))
        merged = {k: v for k, v in query.items() if k in ("status", "count")}
        merged.update(spec)
        try:
            status = int(merged.get("status", 503))
            count = int(merged.get("count", 1))
            skip = int(merged.get("skip", 0))
        except (TypeError, ValueError):
            raise ValueError("status, count and skip must be integers")
        if count == 0 or count < -1 or skip < 0:
            raise ValueError("count is a positive number or -1 (every call), skip is not negative")
        if "body" in spec:
            body = spec["body"]
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            content_type = spec.get("content_type", "application/json")
        else:
            raw = json.dumps({"status": "ERROR", "code": "INTERNAL_SERVER_ERROR",
                              "message": "injected fault (sandbox)"}).encode()
            content_type = "application/json"
        reply = (status, raw, content_type, dict(spec.get("headers") or {}))
        return cls(status, count, skip, spec.get("method"), spec.get("path"), reply)

    def matches(self, method, path):
        return self.method in (None, method) and self.path in (None, path)

    def reply(self):
        status, raw, content_type, headers = self._reply
        return harness_agents.Reply(status, raw, content_type, headers)


class Faults:
    """The queue of faults; the caller holds the store's lock."""

    def __init__(self):
        self.queue = []

    def add(self, fault):
        self.queue.append(fault)

    def clear(self):
        self.queue.clear()

    def take(self, method, path):
        """The fault that answers this call, or None: the first queued one that matches."""
        for fault in self.queue:
            if not fault.matches(method, path):
                continue
            if fault.skip > 0:
                fault.skip -= 1
                return None
            if fault.count > 0:
                fault.count -= 1
                if fault.count == 0:
                    self.queue.remove(fault)
            return fault
        return None
