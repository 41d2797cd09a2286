"""IAM principal validation and propagation for moto 5.2 (installed by moto_launch.py).

Real IAM resolves every AWS principal of a role's trust policy to the principal's unique id
when the document is saved (CreateRole, UpdateAssumeRolePolicy).  A principal that does not
exist is refused with

    MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::ACC:role/NAME"

and so is one created moments ago, until IAM has propagated it (terraform-provider-aws,
`internal/service/iam/role.go`, retries both calls on exactly that message for its
propagation timeout).  Stock moto accepts any document, so a product that names a role before
it exists, or right after creating it, would pass every sandbox test and fail on AWS.

`install()` wraps moto's IAMBackend.create_role and update_assume_role_policy:

* AWS principals are checked: `*`, a 12-digit account, `arn:P:iam::ACC:root`, an STS
  assumed-role or federated-user ARN and a unique id (AROA…/AIDA…) are accepted as IAM
  accepts them; a role or user ARN must name a role or user that exists in moto (in any
  account: cross-account trust is normal) and is older than the propagation delay.
* The propagation delay is `SANDBOX_IAM_PROPAGATION_DELAY` seconds (float, read when moto
  starts; `sandbox start` defaults it to 3).  `propagated(obj)` tells the access-entry API
  (moto_eks_access.py) the same thing for EKS, which refuses a just-created principal with
  "The specified principalArn is invalid: invalid principal.".

Federated and Service principals are not checked (IAM's own validation of those is not
documented well enough to reproduce; see docs/sandbox.md).
"""

import json
import os
import re
import time

_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):(iam|sts)::(\d{12}):(.+)$")
_UNIQUE_ID = re.compile(r"^A(ROA|IDA)[A-Z0-9]{12,}$")
_CREATED = "_sandbox_created_at"


def delay():
    try:
        return max(0.0, float(os.environ.get("SANDBOX_IAM_PROPAGATION_DELAY", "0") or 0))
    except ValueError:
        return 0.0


def propagated(obj):
    """Whether a moto role or user is old enough to be a valid principal."""
    created = obj.__dict__.get(_CREATED)
    return created is None or time.time() - created >= delay()


def _find(account, partition, kind, arn):
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[account][partition]
    except KeyError:
        return None
    pool = backend.roles.values() if kind == "role" else backend.users.values()
    for item in list(pool):
        if getattr(item, "arn", None) == arn:
            return item
    return None


def principal_error(value):
    """None when IAM would accept this AWS principal now, else the reason (for the message)."""
    if value == "*" or re.fullmatch(r"\d{12}", value) or _UNIQUE_ID.match(value):
        return None
    m = _ARN.match(value)
    if not m:
        return "malformed"
    partition, service, account, resource = m.groups()
    if service == "sts":
        return None if resource.startswith(("assumed-role/", "federated-user/")) else "malformed"
    if resource == "root":
        return None
    kind = resource.split("/", 1)[0]
    if kind not in ("role", "user") or "/" not in resource:
        return "malformed"
    found = _find(account, partition, kind, value)
    if found is None:
        return "missing"
    if not propagated(found):
        return "not propagated yet"
    return None


def _aws_principals(document):
    try:
        doc = json.loads(document)
    except (TypeError, ValueError):
        return []  # moto's own validator reports syntax errors
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for st in statements:
        principal = st.get("Principal") if isinstance(st, dict) else None
        if not isinstance(principal, dict):
            continue
        aws = principal.get("AWS")
        out.extend([aws] if isinstance(aws, str) else [a for a in aws or [] if isinstance(a, str)])
    return out


def check_document(document):
    from moto.iam.exceptions import MalformedPolicyDocument

    for value in _aws_principals(document):
        if principal_error(value):
            raise MalformedPolicyDocument('Invalid principal in policy: "AWS":"%s"' % value)


def install():
    from moto.iam import models

    original_role_init = models.Role.__init__
    original_user_init = models.User.__init__
    original_create = models.IAMBackend.create_role
    original_update = models.IAMBackend.update_assume_role_policy

    def role_init(self, *args, **kwargs):
        original_role_init(self, *args, **kwargs)
        self.__dict__[_CREATED] = time.time()

    def user_init(self, *args, **kwargs):
        original_user_init(self, *args, **kwargs)
        self.__dict__[_CREATED] = time.time()

    def create_role(self, role_name, assume_role_policy_document, *args, **kwargs):
        # an existing name is EntityAlreadyExists whatever the document says
        if not [r for r in self.get_roles() if r.name == role_name]:
            check_document(assume_role_policy_document)
        return original_create(self, role_name, assume_role_policy_document, *args, **kwargs)

    def update_assume_role_policy(self, role_name, policy_document):
        self.get_role(role_name)  # NoSuchEntity first, as IAM
        check_document(policy_document)
        return original_update(self, role_name, policy_document)

    models.Role.__init__ = role_init
    models.User.__init__ = user_init
    models.IAMBackend.create_role = create_role
    models.IAMBackend.update_assume_role_policy = update_assume_role_policy
