"""Authentication and authorization of the kube emulator, as EKS does them (issue 13).

A Kubernetes API emulator started by the eksctl emulator gets `--auth-config FILE` (JSON:
cluster name, account, region, OIDC issuer, moto's URL, the creator's static token).  Then:

* **Service-account tokens.** The cluster has its own RSA key.  TokenRequest
  (`POST .../serviceaccounts/SA/token`, what `kubectl create token` and the kubelet's projected
  volume ask for) answers an RS256 JWT with the claims kube-apiserver puts in it
  (kubernetes `pkg/serviceaccount/claims.go`: `iss` = the cluster's issuer, `sub`
  `system:serviceaccount:NS:SA`, `aud`, `exp`, `iat`, `nbf`, `jti`, `kubernetes.io`), for at
  least 10 minutes (the API server's minimum).  `/.well-known/openid-configuration` and the
  JWKS it names are served as EKS serves them for the issuer.
* **AWS IAM tokens** (`k8s-aws-v1.` + base64url of a presigned STS GetCallerIdentity URL, what
  `aws eks get-token` and `argocd-k8s-auth aws` make) are checked as aws-iam-authenticator's
  `pkg/token/token.go` (`Verify`) checks them, then sent to STS (moto) with `x-k8s-aws-id` =
  the cluster's name; the caller's ARN is canonicalized (`assumed-role/R/S` -> `role/R`).
* **Mapping**: by the cluster's authentication mode (moto's EKS): access entries first
  (`API`, `API_AND_CONFIG_MAP`), then `kube-system/aws-auth` `mapRoles`/`mapUsers`
  (`CONFIG_MAP`, `API_AND_CONFIG_MAP`).  No mapping: 401 `Unauthorized`, which kubectl prints as
  "You must be logged in to the server" and client-go's discovery (Argo CD) as "the server has
  asked for the client to provide credentials".
* **Authorization**: no RBAC.  `system:masters` or an `AmazonEKSClusterAdminPolicy` access
  policy at cluster scope may do everything; any other identity may read discovery, ask who it
  is (SelfSubjectReview) and what it may do (SelfSubjectAccessReview: no), and nothing else
  (403 with the API server's message).
* The creator's static token (`sandbox-ACCOUNT`, in the kubeconfigs the eksctl emulator writes)
  is the cluster creator, admin as EKS makes it: no STS call per kubectl call.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

AWS_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
# aws-iam-authenticator pkg/token/token.go: parameterWhitelist
ALLOWED_PARAMS = {"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                  "x-amz-expires", "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"}
PRESIGNED_EXPIRATION = 15 * 60
MIN_TOKEN_SECONDS = 600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Unauthorized(Exception):
    """Authentication failed; the message goes to the emulator's log only (as EKS logs it)."""


class UserInfo:
    def __init__(self, username: str, groups: list, uid: str = "", extra: dict | None = None,
                 admin: bool = False):
        self.username, self.groups, self.uid = username, list(groups), uid
        self.extra = extra or {}
        self.admin = admin or "system:masters" in self.groups

    def view(self) -> dict:
        out = {"username": self.username, "groups": self.groups + ["system:authenticated"]}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


class Auth:
    def __init__(self, config: dict | None):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.enforce = config is not None
        config = config or {}
        self.cluster_name = config.get("cluster_name", "")
        self.account = config.get("account", "")
        self.region = config.get("region", "us-east-1")
        self.issuer = config.get("issuer") or "https://kubernetes.default.svc"
        self.aws_endpoint = (config.get("aws_endpoint") or "").rstrip("/")
        self.static = config.get("static_tokens") or {}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = b64url(hashlib.sha256(der).digest())

    # ---- TLS: client-go sends credentials only over TLS (clientcmd reads a kubeconfig's user
    # only when the transport is TLS), so an authenticating API server must speak it.
    def tls_context(self, directory: str):
        """A self-signed serving certificate for 127.0.0.1 (its own CA, as a kubeconfig's
        certificate-authority-data names it). Returns (ssl.SSLContext, CA PEM)."""
        import ipaddress
        import os
        import ssl

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM)
        path = os.path.join(directory, "kubeapi-%d.pem" % os.getpid())
        with open(path, "wb") as f:
            os.chmod(path, 0o600)
            f.write(pem + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(path)
        os.unlink(path)
        return ctx, pem.decode()

    # ---- the issuer
    def discovery(self) -> dict:
        return {"issuer": self.issuer, "jwks_uri": self.issuer + "/keys", "authorization_endpoint": "urn:kubernetes:programmatic_authorization",
                "response_types_supported": ["id_token"], "subject_types_supported": ["public"],
                "claims_supported": ["sub", "iss"], "id_token_signing_alg_values_supported": ["RS256"]}

    def jwks(self) -> dict:
        pub = self.key.public_key().public_numbers()

        def num(n: int) -> str:
            return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

        return {"keys": [{"use": "sig", "kty": "RSA", "kid": self.kid, "alg": "RS256", "n": num(pub.n),
                          "e": num(pub.e)}]}

    def sign(self, claims: dict) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "kid": self.kid}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        sig = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(sig)

    def service_account_token(self, ns: str, sa: dict, audiences: list, seconds: int) -> tuple[str, int]:
        now = int(time.time())
        exp = now + seconds
        claims = {"aud": audiences or [self.issuer], "exp": exp, "iat": now, "nbf": now, "iss": self.issuer,
                  "jti": str(uuid.uuid4()),
                  "kubernetes.io": {"namespace": ns, "serviceaccount": {
                      "name": sa["metadata"]["name"], "uid": sa["metadata"].get("uid", "")}},
                  "sub": "system:serviceaccount:%s:%s" % (ns, sa["metadata"]["name"])}
        return self.sign(claims), exp

    # ---- authentication
    def authenticate(self, header: str, read_config_map) -> UserInfo:
        """The user of a request's Authorization header; `read_config_map(ns, name)` reads the
        cluster's own ConfigMaps (aws-auth)."""
        if not header.lower().startswith("bearer "):
            raise Unauthorized("no bearer token")
        token = header[7:].strip()
        if token in self.static:
            s = self.static[token]
            return UserInfo(s.get("username", "kubernetes-admin"), s.get("groups", ["system:masters"]),
                            admin=True)
        if token.startswith(AWS_PREFIX):
            arn, canonical, user_id, session, key_id = self._verify_aws(token)
            return self._map(arn, canonical, user_id, session, key_id, read_config_map)
        raise Unauthorized("invalid bearer token")

    def _verify_aws(self, token: str):
        """aws-iam-authenticator pkg/token/token.go, Verify."""
        try:
            raw = base64.urlsafe_b64decode(token[len(AWS_PREFIX):] + "=" * (-len(token) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            raise Unauthorized("input token was not properly formatted: illegal base64 data")
        url = urllib.parse.urlsplit(raw)
        base = "%s://%s" % (url.scheme, url.netloc)
        # the sandbox's STS is moto: its URL stands for https://sts[.REGION].amazonaws.com
        if not self.aws_endpoint or base != self.aws_endpoint:
            raise Unauthorized("input token was not properly formatted: unexpected hostname %r in pre-signed URL"
                               % url.netloc)
        if url.path != "/":
            raise Unauthorized("input token was not properly formatted: unexpected path in pre-signed URL")
        params = {}
        for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items():
            if k.lower() not in ALLOWED_PARAMS:
                raise Unauthorized("non-whitelisted query parameter %r" % k)
            params[k.lower()] = v[0]
        if params.get("action") != "GetCallerIdentity":
            raise Unauthorized("unexpected action parameter in pre-signed URL")
        if CLUSTER_ID_HEADER not in params.get("x-amz-signedheaders", "").lower().split(";"):
            raise Unauthorized("client did not sign the %s header in the pre-signed URL" % CLUSTER_ID_HEADER)
        try:
            expires = int(params.get("x-amz-expires", ""))
        except ValueError:
            expires = -1
        if not 0 <= expires <= 900:
            raise Unauthorized("invalid X-Amz-Expires parameter in pre-signed URL: %d" % expires)
        try:
            signed = datetime.datetime.strptime(params.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise Unauthorized("X-Amz-Date parameter must be present in pre-signed URL")
        if time.time() > signed + PRESIGNED_EXPIRATION:
            raise Unauthorized("X-Amz-Date parameter is expired (15 minute expiration)")
        req = urllib.request.Request(raw, headers={CLUSTER_ID_HEADER: self.cluster_name, "accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                body = r.read().decode()
        except urllib.error.HTTPError as e:
            raise Unauthorized("error from AWS (expected 200, got %d). Body: %s" % (e.code, e.read()[:300]))
        except OSError as e:
            raise Unauthorized("error during GET: %s" % e)
        arn = _xml_or_json(body, "Arn")
        user_id = _xml_or_json(body, "UserId")
        if not arn:
            raise Unauthorized("sts getCallerIdentity: no ARN in %s" % body[:200])
        key_id = params.get("x-amz-credential", "").split("/")[0]
        session = user_id.split(":", 1)[1] if ":" in user_id else ""
        return arn, canonicalize(arn), user_id.split(":")[0], session, key_id

    def _eks(self, path: str):
        """moto's EKS API, in the cluster's account and region (moto reads x-moto-account-id)."""
        auth = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/%s/eks/aws4_request, "
                "SignedHeaders=host, Signature=0" % self.region)
        req = urllib.request.Request(self.aws_endpoint + path, headers={
            "Authorization": auth, "x-moto-account-id": self.account, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise Unauthorized("EKS %s: HTTP %d" % (path, e.code))
        except (OSError, ValueError) as e:
            raise Unauthorized("EKS %s: %s" % (path, e))

    def _map(self, arn, canonical, user_id, session, key_id, read_config_map) -> UserInfo:
        extra = {"accessKeyId": [key_id], "arn": [arn], "canonicalArn": [canonical], "principalId": [user_id],
                 "sessionName": [session]}
        name = urllib.parse.quote(self.cluster_name, safe="")
        described = self._eks("/clusters/%s" % name) or {}
        mode = ((described.get("cluster") or {}).get("accessConfig") or {}).get("authenticationMode") \
            or "API_AND_CONFIG_MAP"
        acc = canonical.split(":")[4] if canonical.count(":") >= 5 else ""
        if mode in ("API", "API_AND_CONFIG_MAP"):
            principal = urllib.parse.quote(canonical, safe="")
            entry = self._eks("/clusters/%s/access-entries/%s" % (name, principal))
            if entry and entry.get("accessEntry"):
                e = entry["accessEntry"]
                pols = self._eks("/clusters/%s/access-entries/%s/access-policies" % (name, principal)) or {}
                admin = any(p.get("policyArn") == ADMIN_POLICY and (p.get("accessScope") or {}).get("type") == "cluster"
                            for p in pols.get("associatedAccessPolicies", []))
                username = e.get("username") or ("arn:aws:sts::%s:assumed-role/%s/{{SessionName}}"
                                                  % (acc, canonical.rsplit("/", 1)[-1]))
                return UserInfo(_template(username, acc, session), e.get("kubernetesGroups") or [],
                                "aws-iam-authenticator:%s:%s" % (acc, user_id), extra, admin=admin)
        if mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
            for m in _aws_auth(read_config_map):
                target = m.get("rolearn") or m.get("userarn") or ""
                if target and target.lower() == canonical.lower():
                    return UserInfo(_template(m.get("username") or canonical, acc, session),
                                    m.get("groups") or [], "aws-iam-authenticator:%s:%s" % (acc, user_id), extra)
        raise Unauthorized("ARN is not mapped: %s" % canonical)

    # ---- authorization
    @staticmethod
    def forbidden_message(user: UserInfo, verb: str, rt, ns, name) -> str:
        what = 'resource "%s"' % rt.plural
        msg = 'User "%s" cannot %s %s in API group "%s"' % (user.username, verb, what, rt.group)
        return msg + (' in the namespace "%s"' % ns if ns else " at the cluster scope")


def canonicalize(arn: str) -> str:
    """aws-iam-authenticator pkg/arn: an STS assumed-role ARN names its role without the path."""
    m = re.match(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+$", arn)
    if m:
        return "arn:%s:iam::%s:role/%s" % m.groups()
    return arn


def _template(username: str, account: str, session: str) -> str:
    return (username.replace("{{AccountID}}", account).replace("{{SessionName}}", session.replace("@", "-"))
            .replace("{{SessionNameRaw}}", session))


def _xml_or_json(body: str, field: str) -> str:
    try:
        doc = json.loads(body)
        return doc["GetCallerIdentityResponse"]["GetCallerIdentityResult"].get(field, "")
    except (ValueError, KeyError, TypeError):
        m = re.search(r"<%s>([^<]*)</%s>" % (field, field), body)
        return m.group(1) if m else ""


def _aws_auth(read_config_map) -> list:
    import yaml

    data = (read_config_map("kube-system", "aws-auth") or {}).get("data") or {}
    out = []
    for key in ("mapRoles", "mapUsers"):
        try:
            items = yaml.safe_load(data.get(key) or "[]") or []
        except yaml.YAMLError:
            items = []
        out.extend(i for i in items if isinstance(i, dict))
    return out
