"""STS that evaluates trust, for moto 5.2 (installed by moto_launch.py; issue 13).

Stock moto's STS hands out credentials for any AssumeRole and AssumeRoleWithWebIdentity call:
a role whose trust names the wrong service account, or an agent role without the inline policy,
would pass every sandbox test and fail on AWS with `AccessDenied`.  `install()` wraps moto's STS
responses so that they refuse what STS refuses, in STS's own words (docs/sandbox.md, "The
sandbox authenticates as EKS and IAM do", names the source of each message):

* AssumeRoleWithWebIdentity: the token must be a JWT whose `iss` has an IAM OIDC provider in
  the role's account (`InvalidIdentityToken: No OpenIDConnect provider found in your account
  for ISSUER`), whose `aud` is one of the provider's client ids (`InvalidIdentityToken:
  Incorrect token audience`), whose RS256 signature verifies against the issuer's JWKS and
  whose `exp` lies ahead (`ExpiredTokenException: Token expired: ...`); then the role's trust
  must hold a statement allowing `sts:AssumeRoleWithWebIdentity` to `Federated` = the
  provider, whose `StringEquals`/`StringLike` conditions on `ISSUER:sub` and `ISSUER:aud` hold
  (`AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity`).
* AssumeRole by temporary credentials (an assumed-role session): the caller's role must have
  an identity policy (inline or attached) allowing `sts:AssumeRole` on the target, and the
  target role (in any account) a trust statement naming the caller's role, its session or its
  account (`AccessDenied: User: CALLER is not authorized to perform: sts:AssumeRole on
  resource: TARGET`).  The sandbox's long-term keys (`testing`) stay moto's all-powerful
  caller: the `testing` profile assumes a role that does not exist.
* A presigned GetCallerIdentity (`aws eks get-token`) names its caller by the query's
  `X-Amz-Credential`, as SigV4 query signing does; stock moto only reads the header.

The issuer's keys: the issuer URL of an EKS cluster cannot be reached offline.  The eksctl
emulator writes, per issuer id, the base URL of the cluster's Kubernetes API emulator
(`DIR/oidc/ID.url`), which serves the discovery document and JWKS; STS fetches
`/.well-known/openid-configuration` there and follows its `jwks_uri` (re-based on that URL).
"""

import base64
import fnmatch
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import urllib.request

WEB_IDENTITY_ACTION = "sts:AssumeRoleWithWebIdentity"
ASSUME_ACTION = "sts:AssumeRole"


def _b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _error(code, message):
    from moto.sts.exceptions import STSClientError

    return STSClientError(code, message)


def _list(v):
    if v is None:
        return []
    return [v] if isinstance(v, (str, dict)) else list(v)


def _statements(document):
    if isinstance(document, str):
        try:
            document = json.loads(urllib.parse.unquote(document) if document.startswith("%7B") else document)
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    return [s for s in _list(document.get("Statement")) if isinstance(s, dict)]


def _action_matches(patterns, action):
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in _list(patterns))


def _resource_matches(patterns, resource):
    return any(fnmatch.fnmatchcase(resource, str(p)) for p in _list(patterns))


def _conditions_hold(condition, context):
    """StringEquals / StringLike (and their IfExists-free forms) on the keys in `context`.
    Any other operator, or a key absent from the context, does not hold (IAM: a condition on a
    missing key is false for these operators)."""
    for op, tests in (condition or {}).items():
        if not isinstance(tests, dict):
            return False
        for key, wanted in tests.items():
            value = context.get(key.lower())
            if value is None:
                return False
            if op == "StringEquals":
                ok = value in [str(w) for w in _list(wanted)]
            elif op == "StringLike":
                ok = any(fnmatch.fnmatchcase(value, str(w)) for w in _list(wanted))
            else:
                return False
            if not ok:
                return False
    return True


# ------------------------------------------------------------------ the issuer's keys

def _sandbox_dir():
    return os.environ.get("SANDBOX_DIR") or os.getcwd()


def _issuer_base(issuer):
    ident = issuer.rstrip("/").rsplit("/", 1)[-1]
    try:
        with open(os.path.join(_sandbox_dir(), "oidc", ident + ".url"), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _jwks(issuer):
    base = _issuer_base(issuer)
    if not base:
        return None
    try:
        with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=5) as r:
            discovery = json.load(r)
        if discovery.get("issuer") != issuer:
            return None
        # the document names the public URL; the sandbox reaches it through the emulator
        path = urllib.parse.urlsplit(discovery["jwks_uri"]).path
        prefix = urllib.parse.urlsplit(issuer).path
        if path.startswith(prefix):
            path = path[len(prefix):]
        with urllib.request.urlopen(base + path, timeout=5) as r:
            return json.load(r)
    except (OSError, ValueError, KeyError):
        return None


def _signature_ok(jwks, header, signing_input, signature):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if header.get("alg") != "RS256":
        return False
    for key in jwks.get("keys", []):
        if key.get("kty") != "RSA" or (header.get("kid") and key.get("kid") != header.get("kid")):
            continue
        n = int.from_bytes(_b64(key["n"]), "big")
        e = int.from_bytes(_b64(key["e"]), "big")
        try:
            rsa.RSAPublicNumbers(e, n).public_key().verify(signature, signing_input, padding.PKCS1v15(),
                                                           hashes.SHA256())
            return True
        except InvalidSignature:
            continue
    return False


# ------------------------------------------------------------------ IAM lookups

def _iam(account):
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _role(arn):
    parts = arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return None
    try:
        backend = _iam(parts[4])
    except KeyError:
        return None
    for role in list(backend.roles.values()):
        if role.arn == arn:
            return role
    return None


def _identity_documents(role):
    docs = list(role.policies.values())
    for policy in role.managed_policies.values():
        version = getattr(policy, "default_version", None) or None
        doc = getattr(version, "document", None) if version is not None else getattr(policy, "document", None)
        if doc is None:
            versions = getattr(policy, "versions", [])
            doc = next((v.document for v in versions if getattr(v, "is_default", False)), None)
        if doc is not None:
            docs.append(doc)
    return docs


def _verify_web_identity(role_arn, token):
    """Raises STS's error when AssumeRoleWithWebIdentity must fail; returns the claims."""
    try:
        h64, p64, s64 = token.split(".")
        header, claims = json.loads(_b64(h64)), json.loads(_b64(p64))
        signature = _b64(s64)
    except (ValueError, AttributeError):
        raise _error("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (sandbox wording)")
    issuer = claims.get("iss", "")
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    host_path = issuer[len("https://"):] if issuer.startswith("https://") else issuer
    provider_arn = "arn:aws:iam::%s:oidc-provider/%s" % (account, host_path)
    try:
        provider = _iam(account).get_open_id_connect_provider(provider_arn)
    except Exception:
        provider = None
    if provider is None:
        raise _error("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s" % issuer)
    audiences = _list(claims.get("aud"))
    if not any(a in provider.client_id_list for a in audiences):
        raise _error("InvalidIdentityToken", "Incorrect token audience")
    jwks = _jwks(issuer)
    if jwks is None:
        raise _error("InvalidIdentityToken",
                     "Couldn't retrieve verification key from your identity provider,  please reference "
                     "AssumeRoleWithWebIdentity documentation for requirements")
    if not _signature_ok(jwks, header, (h64 + "." + p64).encode(), signature):
        raise _error("InvalidIdentityToken", "The signature of the token could not be verified. (sandbox wording)")
    now = int(time.time())
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= now:
        raise _error("ExpiredTokenException", "Token expired: current date/time %d must be before the expiration "
                                              "date/time%d" % (now, int(claims.get("exp") or 0)))
    role = _role(role_arn)
    context = {host_path.lower() + ":sub": str(claims.get("sub", "")),
               host_path.lower() + ":aud": audiences[0] if len(audiences) == 1 else "",
               host_path.lower() + ":amr": ""}
    denied = _error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    if role is None:
        raise denied
    allowed = False
    for st in _statements(role.assume_role_policy_document):
        principal = st.get("Principal") or {}
        if not isinstance(principal, dict) or provider_arn not in _list(principal.get("Federated")):
            continue
        if not _action_matches(st.get("Action"), WEB_IDENTITY_ACTION):
            continue
        if not _conditions_hold(st.get("Condition"), context):
            continue
        if st.get("Effect") == "Deny":
            raise denied
        if st.get("Effect") == "Allow":
            allowed = True
    if not allowed:
        raise denied
    return claims


def _caller_session(access_key):
    """The assumed-role session of these temporary credentials, or None (long-term keys)."""
    from moto.iam.models import get_account_id_from
    from moto.sts.models import sts_backends

    account = get_account_id_from(access_key)
    try:
        return sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key)
    except KeyError:
        return None


def _verify_assume_role(session, target_arn):
    caller_role_arn = session.role_arn
    caller = session.arn
    denied = _error("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                    % (caller, target_arn))
    caller_role = _role(caller_role_arn)
    if caller_role is None:
        raise denied
    allowed = False
    for doc in _identity_documents(caller_role):
        for st in _statements(doc):
            if not _action_matches(st.get("Action"), ASSUME_ACTION) or not _resource_matches(
                    st.get("Resource"), target_arn):
                continue
            if st.get("Effect") == "Deny":
                raise denied
            if st.get("Effect") == "Allow" and not st.get("Condition"):
                allowed = True
    target = _role(target_arn)
    if not allowed or target is None:
        raise denied
    account = caller_role_arn.split(":")[4]
    names = {caller_role_arn, caller, account, "arn:aws:iam::%s:root" % account, "*"}
    trusted = False
    for st in _statements(target.assume_role_policy_document):
        principal = st.get("Principal")
        principals = ["*"] if principal == "*" else _list((principal or {}).get("AWS")) if isinstance(
            principal, dict) else []
        if not names.intersection(principals) or not _action_matches(st.get("Action"), ASSUME_ACTION):
            continue
        if st.get("Effect") == "Deny":
            raise denied
        if st.get("Effect") == "Allow" and not st.get("Condition"):
            trusted = True
    if not trusted:
        raise denied


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SANDBOX_KEYS = {"testing": "testing"}  # env.sh's long-term credentials


def _secret_of(access_key):
    if access_key in SANDBOX_KEYS:
        return SANDBOX_KEYS[access_key]
    session = _caller_session(access_key)
    return session.secret_access_key if session is not None else None


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def presigned_signature_ok(method, raw_query, headers, secret):
    """SigV4 query signing (botocore `SigV4QueryAuth`): the signature over the method, `/`, the
    query without X-Amz-Signature, the signed headers (`host;x-k8s-aws-id` for a token), and the
    payload hash (the empty body's, or UNSIGNED-PAYLOAD). So a token presigned for another
    cluster (`x-k8s-aws-id`) does not verify when the authenticator sends this cluster's name."""

    pairs = [p.partition("=") for p in raw_query.split("&") if p]
    given = next((v for k, _, v in pairs if k == "X-Amz-Signature"), "")
    params = {urllib.parse.unquote(k): urllib.parse.unquote(v) for k, _, v in pairs if k != "X-Amz-Signature"}
    signed = params.get("X-Amz-SignedHeaders", "")
    scope = params.get("X-Amz-Credential", "").split("/", 1)[-1]
    date, region, service = (scope.split("/") + ["", "", ""])[:3]
    lower = {k.lower(): v for k, v in headers.items()}
    canonical_headers = "".join("%s:%s\n" % (h, " ".join(str(lower.get(h, "")).split())) for h in signed.split(";"))
    queries = {
        "&".join(sorted("%s=%s" % (k, v) for k, _, v in pairs if k != "X-Amz-Signature")),
        "&".join("%s=%s" % kv for kv in sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                                               for k, v in params.items())),
    }
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), date), region), service), "aws4_request")
    for query in queries:
        for payload in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
            request = "\n".join([method, "/", query, canonical_headers, signed, payload])
            to_sign = "\n".join(["AWS4-HMAC-SHA256", params.get("X-Amz-Date", ""), scope,
                                  hashlib.sha256(request.encode()).hexdigest()])
            if hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), given):
                return True
    return False


def _presigned_access_key(self):
    cred = self.querystring.get("X-Amz-Credential") or self.querystring.get("x-amz-credential")
    if cred:
        return cred[0].split("/")[0]
    return None


def install():
    from moto.core import responses as core
    from moto.moto_server import werkzeug_app
    from moto.sts import responses

    original_infer = werkzeug_app.DomainDispatcherApplication.infer_service_region_host

    def infer_service_region_host(self, environ, path):
        # SigV4 query signing: the credential scope (and so the service) is in the query
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        cred = (query.get("X-Amz-Credential") or [""])[0]
        if environ.get("HTTP_AUTHORIZATION") or cred.count("/") != 4:
            return original_infer(self, environ, path)
        environ["HTTP_AUTHORIZATION"] = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host" % cred
        try:
            return original_infer(self, environ, path)
        finally:
            del environ["HTTP_AUTHORIZATION"]

    werkzeug_app.DomainDispatcherApplication.infer_service_region_host = infer_service_region_host

    original_key = core.BaseResponse.get_access_key

    def get_access_key(self):
        if "Authorization" not in self.headers:
            key = _presigned_access_key(self)
            if key:
                return key
        return original_key(self)

    core.BaseResponse.get_access_key = get_access_key

    original_web = responses.TokenResponse.assume_role_with_web_identity
    original_assume = responses.TokenResponse.assume_role

    def assume_role_with_web_identity(self):
        _verify_web_identity(self._get_param("RoleArn") or "", self._get_param("WebIdentityToken") or "")
        return original_web(self)

    def assume_role(self):
        session = _caller_session(self.get_access_key())
        if session is not None:
            _verify_assume_role(session, self._get_param("RoleArn") or "")
        return original_assume(self)

    original_identity = responses.TokenResponse.get_caller_identity

    def get_caller_identity(self):
        # A presigned GetCallerIdentity (an EKS token) is only as good as its signature.
        if "Authorization" not in self.headers and "X-Amz-Signature" in self.querystring:
            secret = _secret_of(self.get_access_key())
            raw = urllib.parse.urlsplit(self.uri).query
            if secret is not None and not presigned_signature_ok(self.method, raw, dict(self.headers), secret):
                raise _error("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                      "signature you provided. Check your AWS Secret Access Key and "
                                                      "signing method. Consult the service documentation for details.")
        return original_identity(self)

    responses.TokenResponse.get_caller_identity = get_caller_identity
    responses.TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity
    responses.TokenResponse.assume_role = assume_role
