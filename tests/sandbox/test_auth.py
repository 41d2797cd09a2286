"""The sandbox authenticates and authorizes as EKS and IAM/STS do (issue 13).

One sandbox and one cluster for all of it (a sandbox costs seconds): STS through boto3 (the
same botocore the aws CLI runs, without a CLI process per call), the cluster's API through the
real kubectl with `aws eks get-token` as its exec plugin, as eksctl writes kubeconfigs.

Run from the repository root:  python3 -m unittest tests/sandbox/test_auth.py
"""

import base64
import http.server
import json
import os
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kubeauth
import sandboxlib
from test_sandbox import MGMT, TESTING, R, SandboxTestCase

ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def trust_web_identity(provider_arn, host, sub, aud="sts.amazonaws.com", op="StringEquals"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {host + ":aud": aud}, op: {host + ":sub": sub}} if op != "StringEquals" else
        {"StringEquals": {host + ":aud": aud, host + ":sub": sub}}}]})


def trust_role(arn):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]})


def allow_assume(resource):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": resource}]})


class Issuer:
    """An OIDC issuer of the test's own (kubeauth's signer), served where the sandbox's STS
    looks for issuers (DIR/oidc/ID.url): tokens with any claims, expired ones too."""

    def __init__(self, d, ident="TESTISSUER0000000000000000000001"):
        self.auth = kubeauth.Auth({"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/" + ident})
        self.issuer = self.auth.issuer
        auth = self.auth

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                doc = auth.discovery() if self.path.startswith("/.well-known") else auth.jwks()
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        os.makedirs(os.path.join(d, "oidc"), exist_ok=True)
        with open(os.path.join(d, "oidc", ident + ".url"), "w") as f:
            f.write("http://127.0.0.1:%d\n" % self.server.server_address[1])

    def token(self, sub="system:serviceaccount:iam:gitops-agent", aud="sts.amazonaws.com", exp_in=600, **more):
        now = int(time.time())
        claims = dict({"iss": self.issuer, "sub": sub, "aud": [aud], "iat": now, "nbf": now, "exp": now + exp_in},
                      **more)
        return self.auth.sign(claims)


class TestAuthentication(SandboxTestCase):
    def setUp(self):
        self.d, self.env = self.start_sandbox(SANDBOX_IAM_PROPAGATION_DELAY="0")
        import boto3

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name="us-east-1")
        self.client = lambda name, **kw: session.client(name, endpoint_url=self.env["AWS_ENDPOINT_URL"], **kw)
        self.iam, self.sts = self.client("iam"), self.client("sts")

    def refused(self, code, message, fn, *args, **kwargs):
        import botocore.exceptions

        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            fn(*args, **kwargs)
        err = caught.exception.response["Error"]
        self.assertEqual((err["Code"], err["Message"]), (code, message))

    def session_client(self, name, creds):
        return self.client(name, aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])

    def test_sts_evaluates_the_oidc_provider_token_and_trust_then_assume_role_across_accounts(self):
        issuer = Issuer(self.d)
        host = issuer.issuer[len("https://"):]
        provider = "arn:aws:iam::%s:oidc-provider/%s" % (MGMT, host)
        agent = self.iam.create_role(RoleName="ArgoCD", AssumeRolePolicyDocument=trust_web_identity(
            provider, host, "system:serviceaccount:iam:*", op="StringLike"))["Role"]["Arn"]
        web = lambda token: self.sts.assume_role_with_web_identity(  # noqa: E731
            RoleArn=agent, RoleSessionName="verify", WebIdentityToken=token)
        # no IAM OIDC provider for the token's issuer
        self.refused("InvalidIdentityToken", "No OpenIDConnect provider found in your account for " + issuer.issuer,
                     web, issuer.token())
        self.iam.create_open_id_connect_provider(Url=issuer.issuer, ClientIDList=["sts.amazonaws.com"],
                                                 ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])
        self.refused("InvalidIdentityToken", "Incorrect token audience", web, issuer.token(aud="other"))
        good = issuer.token()
        h, p, s = good.split(".")
        forged = ".".join([h, base64.urlsafe_b64encode(json.dumps(dict(
            json.loads(base64.urlsafe_b64decode(p + "==")), sub="system:serviceaccount:iam:x")).encode())
            .rstrip(b"=").decode(), s])
        self.refused("InvalidIdentityToken", "The signature of the token could not be verified. (sandbox wording)",
                     web, forged)
        expired = issuer.token(exp_in=-5)
        exp = json.loads(base64.urlsafe_b64decode(expired.split(".")[1] + "=="))["exp"]
        import botocore.exceptions

        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            web(expired)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ExpiredTokenException")
        self.assertRegex(caught.exception.response["Error"]["Message"],
                         r"^Token expired: current date/time \d+ must be before the expiration date/time%d$" % exp)
        denied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        self.refused("AccessDenied", denied, web, issuer.token(sub="system:serviceaccount:other:gitops-agent"))
        agent_creds = web(good)["Credentials"]
        # StringEquals on sub and aud: another service account, another audience in the trust
        self.iam.update_assume_role_policy(RoleName="ArgoCD", PolicyDocument=trust_web_identity(
            provider, host, "system:serviceaccount:iam:argocd-application-controller"))
        self.refused("AccessDenied", denied, web, good)
        self.iam.update_assume_role_policy(RoleName="ArgoCD", PolicyDocument=trust_web_identity(
            provider, host, "system:serviceaccount:iam:gitops-agent", aud="sts.amazonaws.com.cn"))
        self.refused("AccessDenied", denied, web, good)
        self.refused("AccessDenied", denied, self.sts.assume_role_with_web_identity,
                     RoleArn="arn:aws:iam::%s:role/Missing" % MGMT, RoleSessionName="verify", WebIdentityToken=good)

        # AssumeRole by the agent's session: identity policy, then the target's trust, across accounts
        testing_iam = self.session_client("iam", self.sts.assume_role(
            RoleArn="arn:aws:iam::%s:role/sandbox-cross-account" % TESTING, RoleSessionName="testing")["Credentials"])
        deployer = testing_iam.create_role(RoleName="Deployer", AssumeRolePolicyDocument=trust_role(agent))["Role"]["Arn"]
        agent_sts = self.session_client("sts", agent_creds)
        caller = "arn:aws:sts::%s:assumed-role/ArgoCD/verify" % MGMT
        not_allowed = "User: %s is not authorized to perform: sts:AssumeRole on resource: %s" % (caller, deployer)
        self.refused("AccessDenied", not_allowed, agent_sts.assume_role, RoleArn=deployer, RoleSessionName="deploy")
        self.iam.put_role_policy(RoleName="ArgoCD", PolicyName="AssumeRole",
                                 PolicyDocument=allow_assume("arn:aws:iam::%s:role/Other" % TESTING))
        self.refused("AccessDenied", not_allowed, agent_sts.assume_role, RoleArn=deployer, RoleSessionName="deploy")
        self.iam.put_role_policy(RoleName="ArgoCD", PolicyName="AssumeRole", PolicyDocument=allow_assume("*"))
        testing_iam.update_assume_role_policy(RoleName="Deployer", PolicyDocument=trust_role(
            "arn:aws:iam::%s:root" % TESTING))
        self.refused("AccessDenied", not_allowed, agent_sts.assume_role, RoleArn=deployer, RoleSessionName="deploy")
        testing_iam.update_assume_role_policy(RoleName="Deployer", PolicyDocument=trust_role(agent))
        got = agent_sts.assume_role(RoleArn=deployer, RoleSessionName="deploy")
        self.assertEqual(got["AssumedRoleUser"]["Arn"], "arn:aws:sts::%s:assumed-role/Deployer/deploy" % TESTING)
        who = self.session_client("sts", got["Credentials"]).get_caller_identity()
        self.assertEqual((who["Account"], who["Arn"]), (TESTING, got["AssumedRoleUser"]["Arn"]))

    def test_the_cluster_issues_tokens_sts_accepts_and_authenticates_maps_and_authorizes_iam_identities(self):
        env = self.env
        self.create_cluster(env, "mgmt", "--with-oidc")
        issuer = self.client("eks").describe_cluster(name="mgmt")["cluster"]["identity"]["oidc"]["issuer"]
        host = issuer[len("https://"):]
        kubectl = lambda *a, check=0, extra=None: self.run_tool(env, "kubectl", *a, check=check, extra=extra)  # noqa
        kubectl("create", "namespace", "iam")
        kubectl("create", "serviceaccount", "gitops-agent", "-n", "iam")
        r = kubectl("create", "token", "gitops-agent", "-n", "iam", "--duration", "5m", check=1)
        self.assertIn("may not specify a duration less than 10 minutes", r.stderr)
        token = kubectl("create", "token", "gitops-agent", "-n", "iam", "--audience", "sts.amazonaws.com",
                        "--duration", "10m").stdout.strip()
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        self.assertEqual((claims["iss"], claims["sub"], claims["aud"]),
                         (issuer, "system:serviceaccount:iam:gitops-agent", ["sts.amazonaws.com"]))
        self.assertEqual(claims["exp"] - claims["iat"], 600)
        reads = [e["line"] for e in sandboxlib.read_command_log(self.d) if not e["mutating"]]
        self.assertTrue(any(line.startswith("kubectl create token gitops-agent -n iam --audience")
                            for line in reads), reads)

        # the cluster's token, accepted by STS for a role that trusts its issuer
        provider = "arn:aws:iam::%s:oidc-provider/%s" % (MGMT, host)
        agent = self.iam.create_role(RoleName="ArgoCD", AssumeRolePolicyDocument=trust_web_identity(
            provider, host, "system:serviceaccount:iam:gitops-agent"))["Role"]["Arn"]
        self.iam.put_role_policy(RoleName="ArgoCD", PolicyName="AssumeRole", PolicyDocument=allow_assume("*"))
        agent_creds = self.sts.assume_role_with_web_identity(RoleArn=agent, RoleSessionName="verify",
                                                             WebIdentityToken=token)["Credentials"]
        roles = {}
        for name in ("Deployer", "Viewer", "Entry"):
            roles[name] = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_role(agent))["Role"]["Arn"]
        agent_sts = self.session_client("sts", agent_creds)

        def as_role(name):
            c = agent_sts.assume_role(RoleArn=roles[name], RoleSessionName="verify")["Credentials"]
            return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": c["SessionToken"]}

        live = os.path.join(self.d, "live.yaml")
        with open(env["KUBECONFIG"]) as f, open(live, "w") as out:
            out.write(f.read())
        kubectl("--kubeconfig", live, "config", "set-credentials", "live",
                "--exec-api-version=client.authentication.k8s.io/v1beta1", "--exec-command=aws",
                *["--exec-arg=" + a for a in ("eks", "get-token", "--cluster-name", "mgmt", "--region", "us-east-1",
                                              "--output", "json")])
        user = ("--kubeconfig", live, "--user", "live")
        deployer = as_role("Deployer")
        # not mapped: 401, which kubectl and Argo CD show as a login problem
        r = kubectl(*user, "auth", "whoami", check=1, extra=deployer)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", r.stderr)
        r = kubectl(*user, "get", "namespaces", check=1, extra=deployer)  # discovery first, as Argo CD
        self.assertIn("the server has asked for the client to provide credentials", r.stderr)
        # mapped in aws-auth, into system:masters: everything
        self.run_tool(env, "eksctl", "create", "iamidentitymapping", "--cluster", "mgmt", *R, "--arn",
                      roles["Deployer"], "--username", "deployer", "--group", "system:masters", check=0)
        who = json.loads(kubectl(*user, "auth", "whoami", "-o", "json", extra=deployer).stdout)["status"]["userInfo"]
        self.assertEqual((who["username"], who["groups"]), ("deployer", ["system:masters", "system:authenticated"]))
        self.assertEqual(who["extra"]["canonicalArn"], [roles["Deployer"]])
        self.assertEqual(kubectl(*user, "auth", "can-i", "*", "*", "-A", extra=deployer).stdout.strip(), "yes")
        # a token presigned for another cluster: x-k8s-aws-id is signed, STS refuses the signature
        other = self.run_tool(env, "aws", "eks", "get-token", "--cluster-name", "other", *R, "--query",
                              "status.token", "--output", "text", extra=deployer, check=0).stdout.strip()
        with open(env["KUBECONFIG"]) as f:
            server = [line.split("server: ")[1].strip() for line in f if "server: " in line][0]
        r = kubectl("--server", server, "--insecure-skip-tls-verify", "--token", other, "auth", "whoami", check=1)
        self.assertIn("You must be logged in to the server (Unauthorized)", r.stderr)
        with open(os.path.join(self.d, "clusters", "%s-us-east-1-mgmt.kubeapi.log" % MGMT)) as f:
            self.assertIn("SignatureDoesNotMatch", f.read())
        # mapped into another group: no RBAC here, so it may do nothing
        viewer = as_role("Viewer")
        self.run_tool(env, "eksctl", "create", "iamidentitymapping", "--cluster", "mgmt", *R, "--arn",
                      roles["Viewer"], "--username", "viewer", "--group", "viewers", check=0)
        r = kubectl(*user, "auth", "can-i", "*", "*", "-A", check=1, extra=viewer)
        self.assertEqual(r.stdout.strip(), "no")
        r = kubectl(*user, "get", "pods", "-n", "iam", check=1, extra=viewer)
        self.assertIn('Error from server (Forbidden): pods is forbidden: User "viewer" cannot list resource "pods" '
                      'in API group "" in the namespace "iam"', r.stderr)
        # an access entry with the cluster-admin policy (the cluster is API_AND_CONFIG_MAP)
        entry = as_role("Entry")
        eks = self.client("eks")
        eks.create_access_entry(clusterName="mgmt", principalArn=roles["Entry"], type="STANDARD")
        self.assertEqual(kubectl(*user, "auth", "can-i", "*", "*", "-A", check=1, extra=entry).stdout.strip(), "no")
        eks.associate_access_policy(clusterName="mgmt", principalArn=roles["Entry"], policyArn=ADMIN_POLICY,
                                    accessScope={"type": "cluster"})
        self.assertEqual(kubectl(*user, "auth", "can-i", "*", "*", "-A", extra=entry).stdout.strip(), "yes")
        who = json.loads(kubectl(*user, "auth", "whoami", "-o", "json", extra=entry).stdout)["status"]["userInfo"]
        self.assertEqual(who["username"], "arn:aws:sts::%s:assumed-role/Entry/verify" % MGMT)
        # in API mode EKS ignores aws-auth: the aws-auth mapping of Deployer no longer counts
        eks.update_cluster_config(name="mgmt", accessConfig={"authenticationMode": "API"})
        kubectl(*user, "auth", "whoami", check=1, extra=deployer)
        self.assertEqual(kubectl(*user, "auth", "can-i", "*", "*", "-A", extra=entry).stdout.strip(), "yes")
        # no token at all, or a token of no one: 401; the creator's static token: admin
        r = kubectl("--server", server, "--insecure-skip-tls-verify", "--token", "nobody", "get", "ns", check=1)
        self.assertIn("You must be logged in to the server", r.stderr)
        kubectl("get", "ns")


if __name__ == "__main__":
    unittest.main()
