"""Run moto_server with three EKS realism patches (used by `sandbox start`).

Stock moto 5.2 gives every EKS cluster of a moto process the SAME OIDC issuer
and endpoint (module constants) and a random non-PEM "certificateAuthority".
Real EKS gives each cluster its own `https://oidc.eks.REGION.amazonaws.com/id/HEX32`
issuer and `https://HEX32.gr7.REGION.eks.amazonaws.com` endpoint, and a base64
PEM CA.  A product that mixed up the management and testing clusters would go
unnoticed with stock moto, so this launcher patches `moto.eks.models.Cluster`:

1. per-cluster issuer and endpoint (same 32-hex id in both, as on EKS);
2. certificateAuthority.data = base64 of a real self-signed PEM certificate
   (falls back to a PEM-shaped random blob when `cryptography` is missing);
3. status CREATING while the cluster's tag `sandbox.gitops-iam/ready-at`
   (epoch seconds, set by bin/eksctl) lies in the future, so
   `aws eks describe-cluster` shows CREATING during SANDBOX_CREATE_DELAY; the tag
   `sandbox.gitops-iam/status` = FAILED, DELETING or UPDATING shows that status instead;
4. ListNodegroups of a missing cluster answers EKS's ResourceNotFoundException
   (botocore `eks/2017-11-01/service-2.json` lists it among the operation's errors)
   where stock moto's KeyError is an HTTP 500, which the aws CLI retries for seconds;
5. eksctl's cluster stack (tagged `sandbox.gitops-iam/ready-at` by bin/eksctl) is
   CREATE_IN_PROGRESS until its EKS cluster exists and that time has passed: CloudFormation
   completes a stack only once every resource in it is, and the control plane is one; stock
   moto completes every stack at once.

It then installs the EKS access-entry API (moto_eks_access.py: create/describe/
list/update/delete-access-entry, associate/disassociate/list-associated-access-
policies, list-access-policies, and the clusters' accessConfig.authenticationMode),
which stock moto lacks (HTML 404).

Last, IAM principal validation and propagation (moto_iam_principals.py): trust
policies naming a missing or just-created role are refused as IAM refuses them.

Then STS trust evaluation (moto_sts_trust.py, issue 13): AssumeRoleWithWebIdentity and
AssumeRole refuse what STS refuses, and a presigned GetCallerIdentity names its caller.

If a patch fails (moto internals changed) moto runs without it and a warning is
printed to its log.  Arguments are moto_server's (`-H 127.0.0.1 -p PORT`).
"""

import base64
import datetime
import os
import secrets
import sys
import time

READY_TAG = "sandbox.gitops-iam/ready-at"
# A test device: EKS reaches FAILED when a creation fails and DELETING while it deletes, which
# the sandbox does not otherwise model; tagging a cluster with this key shows that status.
STATUS_TAG = "sandbox.gitops-iam/status"


def _fake_ca_pem():
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)
    except Exception:  # pragma: no cover - depends on installed packages
        body = base64.encodebytes(secrets.token_bytes(700)).decode().replace("\n", "")
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n").encode()


def _not_ready_yet(resource):
    """Whether the resource's `sandbox.gitops-iam/ready-at` tag (epoch seconds) lies ahead."""
    ready_at = (getattr(resource, "tags", None) or {}).get(READY_TAG)
    try:
        return bool(ready_at) and time.time() < float(ready_at)
    except ValueError:
        return False


def patch_moto():
    from moto.eks import models

    original_init = models.Cluster.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        region = self.arn.split(":")[3]
        uid = secrets.token_hex(16).upper()
        self.identity = {"oidc": {"issuer": "https://oidc.eks.%s.amazonaws.com/id/%s" % (region, uid)}}
        self.endpoint = "https://%s.gr7.%s.eks.amazonaws.com" % (uid, region)
        self.certificate_authority = {"data": base64.b64encode(_fake_ca_pem()).decode()}

    def get_status(self):
        stored = self.__dict__.get("_sandbox_status", "ACTIVE")
        forced = (getattr(self, "tags", None) or {}).get(STATUS_TAG)
        if stored == "ACTIVE" and forced in ("FAILED", "DELETING", "UPDATING"):
            return forced
        if stored == "ACTIVE" and _not_ready_yet(self):
            return "CREATING"
        return stored

    def set_status(self, value):
        self.__dict__["_sandbox_status"] = value

    models.Cluster.__init__ = init
    models.Cluster.status = property(get_status, set_status)

    original_list_nodegroups = models.EKSBackend.list_nodegroups

    def list_nodegroups(self, cluster_name, *args, **kwargs):
        self.describe_cluster(cluster_name)  # ResourceNotFoundException, as for DescribeCluster
        return original_list_nodegroups(self, cluster_name, *args, **kwargs)

    models.EKSBackend.list_nodegroups = list_nodegroups

    from moto.cloudformation import models as cfn

    def cluster_made(stack):
        # The EKS cluster the stack creates (its eksctl tag names it) exists in moto yet.
        name = (stack.tags or {}).get("alpha.eksctl.io/cluster-name")
        try:
            return name in models.eks_backends[stack.account_id][stack.region_name].clusters
        except (KeyError, AttributeError):
            return True

    def get_stack_status(self):
        stored = self.__dict__.get("_sandbox_status", "CREATE_PENDING")
        tagged = READY_TAG in (getattr(self, "tags", None) or {})
        if stored == "CREATE_COMPLETE" and tagged and (_not_ready_yet(self) or not cluster_made(self)):
            return "CREATE_IN_PROGRESS"
        return stored

    def set_stack_status(self, value):
        self.__dict__["_sandbox_status"] = value

    cfn.Stack.status = property(get_stack_status, set_stack_status)


def main():
    try:
        patch_moto()
    except Exception as e:  # pragma: no cover
        print("sandbox moto_launch: WARNING: EKS patch failed, running stock moto: %r" % (e,), flush=True)
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import moto_eks_access

        moto_eks_access.install()
    except Exception as e:  # pragma: no cover
        print("sandbox moto_launch: WARNING: EKS access-entry patch failed, no access entries: %r" % (e,),
              flush=True)
    try:
        import moto_iam_principals

        moto_iam_principals.install()
    except Exception as e:  # pragma: no cover
        print("sandbox moto_launch: WARNING: IAM principal patch failed, trust policies unchecked: %r" % (e,),
              flush=True)
    try:
        import moto_sts_trust

        moto_sts_trust.install()
    except Exception as e:  # pragma: no cover
        print("sandbox moto_launch: WARNING: STS trust patch failed, every role can be assumed: %r" % (e,),
              flush=True)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


def prewarm():
    """The imports of a moto_server run, done once in a shared warm-start server (`sandbox
    share`, forkserver.py --preload moto_launch:prewarm): moto's server and the services the sandbox
    uses, the patches' own modules and the cryptography they use. Only imports: no backend,
    no patch, no state, so each moto forked from the server starts as empty as a fresh one."""
    import importlib

    for module in ("moto.server", "moto.moto_server.werkzeug_app", "moto.core.responses",
                   "cryptography.x509", "cryptography.hazmat.primitives.asymmetric.ec",
                   "cryptography.hazmat.primitives.asymmetric.rsa",
                   "cryptography.hazmat.primitives.asymmetric.padding",
                   "moto_eks_access", "moto_iam_principals", "moto_sts_trust"):
        importlib.import_module(module)
    for service in ("iam", "sts", "eks", "ec2", "cloudformation"):
        for part in ("models", "responses", "urls", "exceptions"):
            importlib.import_module("moto.%s.%s" % (service, part))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
