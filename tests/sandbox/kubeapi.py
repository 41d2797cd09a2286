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
import json
import os
import signal
import sys
import threading

from kube_common import LOG, STOP, deep, now_iso
from kube_http import make_server
from kube_resources import NODE_RT, NS_RT, RT_BY_KIND, rt_for
from kube_store import Cluster


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


def main(argv=None):
    ap = argparse.ArgumentParser(description="Kubernetes API server emulator (plain HTTP, no auth)")
    ap.add_argument("--port-file", required=True, help="file the listening port is written to")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--rollout-delay", type=float, default=0.5,
                    help="seconds between a workload spec change and a finished rollout")
    ap.add_argument("--seed", help="JSON file with a list of objects to create at startup")
    ap.add_argument("--log", help="append one line per request to this file (default: stderr)")
    ap.add_argument("--auth-config", help="JSON: authenticate and authorize as EKS does (kubeauth.py)")
    args = ap.parse_args(argv)
    LOG.open(args.log)
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



if __name__ == "__main__":
    sys.exit(main())
