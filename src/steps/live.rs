//! `verify --live`: walk the IRSA chain with real credentials, hop by hop, as the agent does.
//!
//! The static checks read documents: the trust names the provider, the mapping exists. Users of
//! IRSA lose hours when every document looks right and the agent still gets `AccessDenied ...
//! sts:AssumeRoleWithWebIdentity`, or Argo CD says "the server has asked for the client to
//! provide credentials". So, for each agent service account and each testing cluster, this makes
//! the agent's own calls from the laptop:
//!
//! 1. a service-account token as the pod gets it (TokenRequest: `kubectl create token`, audience
//!    `sts.amazonaws.com`, 10 minutes);
//! 2. `aws sts assume-role-with-web-identity` into the agent role with that token;
//! 3. with those credentials, `aws sts assume-role` into the Deployer role (cross-account: the
//!    testing account's);
//! 4. with the Deployer's credentials, the testing cluster's API through the `aws eks get-token`
//!    exec plugin, as eksctl writes kubeconfigs and `argocd-k8s-auth` signs: `kubectl auth
//!    whoami` (the mapped username and groups) and `kubectl auth can-i '*' '*'` (Argo CD deploys
//!    anything, so it needs everything).
//!
//! Each hop is a check: ok, or FAIL with the service's own error, the static check that names
//! the same cause (its verdict is already in the report) and that check's fix. A hop that cannot
//! run because an earlier one failed is skipped. Nothing in AWS or Kubernetes changes.
//!
//! Secrets: the token and the temporary credentials never reach argv, output, logs, events or
//! errors. The token goes to `aws` as `--web-identity-token file://` from a 0600 file in the state
//! directory, removed right after; credentials reach the next child only through its environment
//! ([`Cmd::secret_env`], which `Display` never shows), and every text shown is scrubbed of them.

use super::Ctx;
use super::verify::{Check, Verdict};
use crate::cmd::{Arg, Cmd, Effect, Val, quote};
use crate::error::{Error, Result};
use crate::exec::{Output, Scripted, Transform};
use crate::policy::AGENT_SERVICE_ACCOUNTS;
use crate::propagation::Propagation;
use crate::settings::TestingTarget;
use crate::tools::ToolCtx;
use crate::tools::aws::{self};
use crate::tools::kubectl::{self, Kubeconfig};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The audience IRSA's projected token carries (the OIDC provider's client id).
pub(crate) const AUDIENCE: &str = "sts.amazonaws.com";
/// The session name of both role sessions (CloudTrail shows it).
pub(crate) const SESSION: &str = "gitops-iam-verify";
/// The kubeconfig user whose exec plugin is `aws eks get-token`.
pub(crate) const LIVE_USER: &str = "gitops-iam-live";
const CREDS_QUERY: &str = "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]";

/// Temporary credentials: known values in a real run, the shell variables of a dry-run script.
/// No `Debug`: nothing may print them.
struct Creds {
    key: Val,
    secret: Val,
    session: Val,
}

impl Creds {
    fn vars(base: &str) -> Creds {
        Creds {
            key: Val::var(format!("{base}_KEY")),
            secret: Val::var(format!("{base}_SECRET")),
            session: Val::var(format!("{base}_SESSION")),
        }
    }

    /// `--query Credentials.[AccessKeyId,SecretAccessKey,SessionToken] --output text`.
    fn parse(stdout: &str) -> Option<Creds> {
        let mut words = stdout.split_whitespace();
        let (key, secret, session) = (words.next()?, words.next()?, words.next()?);
        words.next().is_none().then(|| Creds {
            key: Val::known(key),
            secret: Val::known(secret),
            session: Val::known(session),
        })
    }

    fn pass(&self, cmd: Cmd) -> Cmd {
        cmd.secret_env("AWS_ACCESS_KEY_ID", self.key.clone())
            .secret_env("AWS_SECRET_ACCESS_KEY", self.secret.clone())
            .secret_env("AWS_SESSION_TOKEN", self.session.clone())
    }

    fn secrets(&self) -> Vec<String> {
        [&self.key, &self.secret, &self.session]
            .into_iter()
            .filter_map(|v| match v {
                Val::Known(s) => Some(s.clone()),
                Val::Var(_) => None,
            })
            .collect()
    }
}

/// The service-account token's file: 0600, in the state directory, removed when dropped.
struct TokenFile(PathBuf);

impl TokenFile {
    fn write(path: PathBuf, token: &str) -> Result<TokenFile> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Other(anyhow::anyhow!("creating {}: {e}", dir.display())))?;
        }
        let _ = std::fs::remove_file(&path);
        let file = TokenFile(path);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file.0)
            .map_err(|e| Error::Other(anyhow::anyhow!("writing {}: {e}", file.0.display())))?;
        f.write_all(token.as_bytes())
            .map_err(|e| Error::Other(anyhow::anyhow!("writing {}: {e}", file.0.display())))?;
        Ok(file)
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The checks of the hops, in order; each text scrubbed of every secret seen so far.
struct Hops {
    list: Vec<Check>,
    secrets: Vec<String>,
}

impl Hops {
    fn scrub(&self, text: &str) -> String {
        self.secrets
            .iter()
            .filter(|s| s.len() >= 8)
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "<redacted>"))
    }

    fn add(&mut self, name: &str, verdict: Verdict, detail: &str, fix: Option<String>) {
        let (detail, fix) = (self.scrub(detail), fix.map(|f| self.scrub(&f)));
        self.list.push(Check {
            name: name.to_string(),
            verdict,
            detail,
            fix,
        });
    }

    fn ok(&mut self, name: &str, detail: &str) {
        self.add(name, Verdict::Ok, detail, None);
    }

    fn fail(&mut self, name: &str, detail: &str, fix: String) {
        self.add(name, Verdict::Fail, detail, Some(fix));
    }

    fn skip(&mut self, name: &str, why: &str) {
        self.add(name, Verdict::Skipped, why, None);
    }
}

/// The service's own error: aws's `An error occurred (CODE) when calling OP: MESSAGE` line as
/// `CODE: MESSAGE`, kubectl's `error: ...` / `Error from server ...` line, else the last line.
pub(crate) fn service_error(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if let Some(l) = lines.iter().find(|l| l.contains("An error occurred (")) {
        let code = aws::error_code(l).unwrap_or("");
        let message = l.split_once(" operation: ").map_or(*l, |(_, m)| m);
        return format!("{code}: {message}");
    }
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("error:") || l.starts_with("Error from server"))
        .or(lines.last())
        .map_or_else(|| "no error message".to_string(), std::string::ToString::to_string)
}

/// The first failing static check among `names`: its name and detail, and its fix.
fn static_cause(checks: &[Check], names: &[String]) -> Option<(String, String)> {
    checks
        .iter()
        .find(|c| c.verdict == Verdict::Fail && names.contains(&c.name))
        .map(|c| {
            (
                format!("static check `{}`: {}", c.name, c.detail),
                c.fix.clone().unwrap_or_default(),
            )
        })
}

/// The detail (the service's error, what it means here, the static check naming the same cause)
/// and the fix (that check's, else `fix`).
fn explain(checks: &[Check], names: &[String], error: &str, fallback: &str, fix: String) -> (String, String) {
    match static_cause(checks, names) {
        Some((cause, f)) => (
            format!("{error}: {fallback} ({cause})"),
            if f.is_empty() { fix } else { f },
        ),
        None => (format!("{error}: {fallback}"), fix),
    }
}

/// Runs a role assumption. When no static check of its link failed (the documents look right),
/// an `AccessDenied` is STS not having propagated a change yet: waited out as every documented
/// propagation error is (bounded by `--propagation-timeout`, shown as progress). When one failed,
/// it is the cause: the hop fails at once.
async fn assume(ctx: &Ctx<'_>, cmd: Cmd, checks: &[Check], link: &[String]) -> Result<Output> {
    let cmd = match static_cause(checks, link) {
        None => cmd.retry_on(Propagation::AssumeRole),
        Some(_) => cmd,
    };
    match ctx.exec.run(&cmd).await {
        Ok(out) => Ok(out),
        Err(Error::Command(c)) if c.status.is_some() => Ok(Output {
            status: c.status,
            stdout: String::new(),
            stderr: c.stderr,
        }),
        Err(e) => Err(e),
    }
}

fn kube_cmd(kubeconfig: &Kubeconfig, context: &Val, purpose: String) -> Cmd {
    // An EKS kubeconfig runs `aws eks get-token` with kubectl's environment.
    Cmd::new("kubectl", Effect::Read, purpose)
        .conventions(aws::CONVENTIONS)
        .arg("--kubeconfig")
        .arg(kubeconfig.arg())
        .arg("--context")
        .arg(context)
}

/// Hop 1: TokenRequest, as the kubelet asks for the pod's projected token (stores nothing).
pub(crate) fn token_request(kubeconfig: &Kubeconfig, context: &Val, ns: &str, sa: &str) -> Cmd {
    kube_cmd(kubeconfig, context, format!("request a token for serviceaccount {sa}")).args([
        "create",
        "token",
        sa,
        "-n",
        ns,
        "--audience",
        AUDIENCE,
        "--duration",
        "10m",
    ])
}

/// Hop 2: the agent's AssumeRoleWithWebIdentity (unsigned: the token is the credential).
pub(crate) fn assume_web_identity(aws: &ToolCtx, role_arn: &Arg, token_file: &Path) -> Cmd {
    let cmd = Cmd::new(
        "aws",
        Effect::Read,
        format!("assume {} with the service-account token", role_arn.template()),
    )
    .conventions(aws::CONVENTIONS)
    .args(["sts", "assume-role-with-web-identity", "--role-arn"])
    .arg(role_arn.clone())
    .args(["--role-session-name", SESSION, "--web-identity-token"])
    .arg(format!("file://{}", token_file.display()))
    .args(["--query", CREDS_QUERY, "--output", "text"]);
    aws.with_region_profile(cmd)
}

/// Hop 3: AssumeRole into the Deployer with the agent's credentials (no profile: a profile's
/// credentials would win over the environment's).
pub(crate) fn assume_role(region: &Val, role_arn: &Arg) -> Cmd {
    let cmd = Cmd::new(
        "aws",
        Effect::Read,
        format!("assume {} as the agent role", role_arn.template()),
    )
    .conventions(aws::CONVENTIONS)
    .args(["sts", "assume-role", "--role-arn"])
    .arg(role_arn.clone())
    .args([
        "--role-session-name",
        SESSION,
        "--query",
        CREDS_QUERY,
        "--output",
        "text",
    ]);
    ToolCtx {
        region: region.clone(),
        profile: None,
    }
    .with_region_profile(cmd)
}

/// The exec-plugin user of the live kubeconfig: `aws eks get-token`, as eksctl writes it.
pub(crate) fn set_live_user(kubeconfig: &Kubeconfig, cluster: &str, region: &Val) -> Cmd {
    let mut cmd = Cmd::new(
        "kubectl",
        Effect::Read,
        format!("add the aws eks get-token user to the live kubeconfig of {cluster}"),
    )
    .arg("--kubeconfig")
    .arg(kubeconfig.arg())
    .args(["config", "set-credentials", LIVE_USER])
    .args([
        "--exec-api-version=client.authentication.k8s.io/v1beta1",
        "--exec-command=aws",
        "--exec-arg=eks",
        "--exec-arg=get-token",
        "--exec-arg=--cluster-name",
    ])
    .arg(format!("--exec-arg={cluster}"))
    .arg("--exec-arg=--region")
    .arg(Arg::concat([Val::known("--exec-arg="), region.clone()]));
    cmd = cmd.args(["--exec-arg=--output", "--exec-arg=json"]);
    cmd
}

fn live_kube(kubeconfig: &Kubeconfig, context: &Val, purpose: String, args: &[&str]) -> Cmd {
    kube_cmd(kubeconfig, context, purpose)
        .args(["--user", LIVE_USER])
        .args(args.iter().copied())
}

/// What `kubectl auth whoami -o json` says.
fn whoami(stdout: &str) -> Option<(String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(stdout).ok()?;
    let info = &v["status"]["userInfo"];
    let groups = info["groups"]
        .as_array()?
        .iter()
        .filter_map(|g| g.as_str().map(str::to_string))
        .collect();
    Some((info["username"].as_str()?.to_string(), groups))
}

/// A command's failure as the reason to skip hops (a cluster that is not there or not ACTIVE:
/// its static check already failed); any other error (an interruption) stops the run.
fn reachable<T>(r: Result<T>) -> Result<std::result::Result<T, String>> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e @ (Error::Command(_) | Error::State(_) | Error::Parse { .. })) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            Ok(Err(format!("{first} (the static checks above say why)")))
        }
        Err(e) => Err(e),
    }
}

/// One testing cluster, reached as the agent reaches it.
struct Target {
    deployer: Arg,
    kubeconfig: Kubeconfig,
    context: Val,
}

async fn target(ctx: &Ctx<'_>, t: &TestingTarget) -> Result<Target> {
    let s = ctx.settings;
    let account = ctx.testing_account(t).await?;
    // A kubeconfig of its own, written fresh: the tool's own one may hold several contexts of
    // the cluster (an assumed-role profile's identity differs per session), and it keeps the
    // creator's credentials. `.live` cannot be part of a cluster name.
    let kubeconfig = Kubeconfig::new(&s.kubeconfig_dir(), &account, &s.region, &format!("{}.live", t.cluster));
    let remove = Scripted::Lines(vec![format!("rm -f {}", kubeconfig.arg().shell())]);
    ctx.exec
        .either(remove, async {
            let _ = std::fs::remove_file(kubeconfig.path());
            Ok(())
        })
        .await?;
    ctx.exec
        .run(&ctx.testing_tools(t).write_kubeconfig(t.cluster.as_str(), &kubeconfig))
        .await?;
    let entry = kubectl::eksctl_cluster_entry(t.cluster.as_str(), &s.region);
    let context = ctx
        .exec
        .capture(
            &ctx.target_var("LIVE_CONTEXT", t),
            &kubectl::context_of(&kubeconfig, &entry),
            Transform::None,
        )
        .await?;
    ctx.exec
        .run(&set_live_user(&kubeconfig, t.cluster.as_str(), &s.region))
        .await?;
    Ok(Target {
        deployer: ctx.deployer_role_arn(t).await?,
        kubeconfig,
        context,
    })
}

/// The hops for every agent service account and testing cluster, after the static `checks`.
pub(crate) async fn run(ctx: &Ctx<'_>, checks: &[Check]) -> Result<Vec<Check>> {
    let s = ctx.settings;
    let mut hops = Hops {
        list: Vec::new(),
        secrets: Vec::new(),
    };
    ctx.exec.comment(
        "verify --live: the agent's own calls, hop by hop (the token and the credentials stay in files and variables)",
    );
    // A cluster that cannot be reached (the static checks say why) skips its hops.
    let mgmt = match reachable(ctx.mgmt_kubectl().await)? {
        Ok(k) => k,
        Err(why) => {
            for sa in AGENT_SERVICE_ACCOUNTS {
                hops.skip(
                    &format!("live {sa}: token"),
                    &format!("no kubeconfig for the management cluster: {why}"),
                );
            }
            return Ok(hops.list);
        }
    };
    let agent_arn = ctx.agent_role_arn().await?;
    let mut targets = Vec::new();
    for t in &s.testing {
        let reached = reachable(target(ctx, t).await)?;
        targets.push((t, reached));
    }
    let (fix_mgmt, fix_agent, fix_testing) = (s.suggest("mgmt"), s.suggest("agent patch"), s.suggest("testing"));
    for (i, sa) in AGENT_SERVICE_ACCOUNTS.iter().enumerate() {
        let hop = Hop {
            ctx,
            checks,
            sa,
            suffix: if i == 0 { String::new() } else { format!("_SA{}", i + 1) },
            fix_mgmt: &fix_mgmt,
            fix_agent: &fix_agent,
            fix_testing: &fix_testing,
        };
        let agent = hop.agent_credentials(&mut hops, &mgmt, &agent_arn).await?;
        let agent_role = s.agent_role.as_str();
        for (t, target) in &targets {
            let cluster = t.cluster.as_str();
            let deployer_name = format!("live {sa}: AssumeRole {} ({cluster})", t.deployer_role);
            let api_name = format!("live {sa}: API of {cluster}");
            let target = match target {
                Ok(target) => target,
                Err(why) => {
                    hops.skip(&deployer_name, &format!("no kubeconfig for {cluster}: {why}"));
                    hops.skip(&api_name, &format!("no kubeconfig for {cluster}: {why}"));
                    continue;
                }
            };
            let Some(agent) = &agent else {
                hops.skip(&deployer_name, &format!("no credentials of {agent_role}"));
                hops.skip(&api_name, &format!("no credentials of {}", t.deployer_role));
                continue;
            };
            let Some(deployer) = hop.deployer_credentials(&mut hops, t, target, agent).await? else {
                hops.skip(&api_name, &format!("no credentials of {}", t.deployer_role));
                continue;
            };
            hop.testing_api(&mut hops, t, target, &deployer).await?;
        }
    }
    Ok(hops.list)
}

/// What the hops of one agent service account share.
struct Hop<'c, 'a> {
    ctx: &'c Ctx<'a>,
    checks: &'c [Check],
    sa: &'static str,
    /// Tells this service account's script variables from the first one's.
    suffix: String,
    fix_mgmt: &'c String,
    fix_agent: &'c String,
    fix_testing: &'c String,
}

impl Hop<'_, '_> {
    /// Hops 1 and 2: the service account's token, then the agent role's credentials with it.
    async fn agent_credentials(
        &self,
        hops: &mut Hops,
        mgmt: &kubectl::Kubectl,
        agent_arn: &Arg,
    ) -> Result<Option<Creds>> {
        let (ctx, checks, sa, suffix) = (self.ctx, self.checks, self.sa, &self.suffix);
        let (fix_mgmt, fix_agent) = (self.fix_mgmt, self.fix_agent);
        let s = ctx.settings;
        let ns = s.namespace.as_str();
        let agent_role = s.agent_role.as_str();
        let subject = format!("system:serviceaccount:{ns}:{sa}");
        let token_name = format!("live {sa}: token");
        let web_name = format!("live {sa}: AssumeRoleWithWebIdentity {agent_role}");
        let token_path = s.state_dir.join(format!("live-token-{sa}"));
        let token_cmd = token_request(&mgmt.kubeconfig, &mgmt.context, ns, sa);
        let web_cmd = assume_web_identity(&ctx.mgmt_tools(), agent_arn, &token_path);
        let path = quote(&token_path.to_string_lossy());
        let creds = format!("AGENT_CREDS{suffix}");
        let script = Scripted::Lines(vec![
            format!("(umask 077 && {token_cmd} > {path})"),
            format!("if ! {creds}=$({web_cmd}); then rm -f {path}; exit 1; fi"),
            format!("rm -f {path}"),
            format!("read -r AGENT_KEY{suffix} AGENT_SECRET{suffix} AGENT_SESSION{suffix} <<<\"${{{creds}}}\""),
        ]);
        let run = async {
            let out = ctx.exec.observe(&token_cmd).await?.unwrap_or_default();
            let token = out.stdout.trim().to_string();
            Ok(if !out.success() || token.is_empty() {
                let not_found = kubectl::is_not_found(&out.stderr);
                let detail = if not_found {
                    format!("serviceaccount {sa} does not exist in namespace {ns}: install the agent")
                } else {
                    format!("TokenRequest refused: {}", service_error(&out.stderr))
                };
                hops.fail(&token_name, &detail, fix_agent.clone());
                hops.skip(&web_name, "no token");
                None
            } else {
                hops.secrets.push(token.clone());
                hops.ok(
                    &token_name,
                    &format!("TokenRequest for {subject}, audience {AUDIENCE}, 10m"),
                );
                let file = TokenFile::write(token_path.clone(), &token)?;
                let link = [format!("{agent_role} trust"), "OIDC provider".to_string()];
                let out = assume(ctx, web_cmd.clone(), checks, &link).await;
                drop(file);
                let out = out?;
                match Creds::parse(&out.stdout).filter(|_| out.success()) {
                    Some(c) => {
                        hops.secrets.extend(c.secrets());
                        hops.ok(&web_name, &format!("credentials of {}", agent_arn.template()));
                        Some(c)
                    }
                    None => {
                        let error = service_error(&out.stderr);
                        let (why, names) = if error.contains("No OpenIDConnect provider") {
                            (
                                "IAM has no OIDC provider for the management cluster's issuer".to_string(),
                                vec!["OIDC provider".to_string()],
                            )
                        } else if error.contains("Incorrect token audience") {
                            (
                                format!("the OIDC provider does not list {AUDIENCE} as a client id"),
                                vec!["OIDC provider".to_string()],
                            )
                        } else {
                            (
                                format!("the trust of {agent_role} does not admit sub {subject} with aud {AUDIENCE}"),
                                vec![format!("{agent_role} trust"), "OIDC provider".to_string()],
                            )
                        };
                        let (detail, fix) = explain(checks, &names, &error, &why, fix_mgmt.clone());
                        hops.fail(&web_name, &detail, fix);
                        None
                    }
                }
            })
        };
        let ran = ctx.exec.either(script, run).await?;
        Ok(ran.unwrap_or_else(|| {
            Some(Creds {
                key: Val::var(format!("AGENT_KEY{suffix}")),
                secret: Val::var(format!("AGENT_SECRET{suffix}")),
                session: Val::var(format!("AGENT_SESSION{suffix}")),
            })
        }))
    }

    /// Hop 3: the Deployer's credentials, with the agent role's.
    async fn deployer_credentials(
        &self,
        hops: &mut Hops,
        t: &TestingTarget,
        target: &Target,
        agent: &Creds,
    ) -> Result<Option<Creds>> {
        let (ctx, checks, sa, suffix) = (self.ctx, self.checks, self.sa, &self.suffix);
        let (fix_mgmt, fix_testing) = (self.fix_mgmt, self.fix_testing);
        let s = ctx.settings;
        let agent_role = s.agent_role.as_str();
        let cluster = t.cluster.as_str();
        let deployer_name = format!("live {sa}: AssumeRole {} ({cluster})", t.deployer_role);
        let base = format!("{}{suffix}", ctx.target_var("DEPLOYER", t));
        let assume_cmd = agent.pass(assume_role(&s.region, &target.deployer));
        let script = Scripted::Lines(vec![
            format!("{base}_CREDS=$({assume_cmd})"),
            format!("read -r {base}_KEY {base}_SECRET {base}_SESSION <<<\"${{{base}_CREDS}}\""),
        ]);
        let run = async {
            let link = [
                format!("{agent_role} policy {}", crate::policy::AGENT_POLICY_NAME),
                format!("{} trust", t.deployer_role),
            ];
            let out = assume(ctx, assume_cmd.clone(), checks, &link).await?;
            Ok(match Creds::parse(&out.stdout).filter(|_| out.success()) {
                Some(c) => {
                    hops.secrets.extend(c.secrets());
                    hops.ok(
                        &deployer_name,
                        &format!("credentials of {}", target.deployer.template()),
                    );
                    Some(c)
                }
                None => {
                    let error = service_error(&out.stderr);
                    let names = link;
                    let why = format!(
                        "{agent_role}'s policy {} must allow sts:AssumeRole on it and {}'s trust must name {agent_role}",
                        crate::policy::AGENT_POLICY_NAME,
                        t.deployer_role
                    );
                    let fix = format!("{fix_mgmt}; {fix_testing}");
                    let (detail, fix) = explain(checks, &names, &error, &why, fix);
                    hops.fail(&deployer_name, &detail, fix);
                    None
                }
            })
        };
        let ran = ctx.exec.either(script, run).await?;
        Ok(ran.unwrap_or_else(|| Some(Creds::vars(&base))))
    }

    /// Hop 4: the testing cluster's API as the Deployer, and whether it is a cluster admin.
    async fn testing_api(&self, hops: &mut Hops, t: &TestingTarget, target: &Target, deployer: &Creds) -> Result<()> {
        let (ctx, checks, sa) = (self.ctx, self.checks, self.sa);
        let fix_testing = self.fix_testing;
        let cluster = t.cluster.as_str();
        let api_name = format!("live {sa}: API of {cluster}");
        let who = deployer.pass(live_kube(
            &target.kubeconfig,
            &target.context,
            format!("ask {cluster} who the Deployer is"),
            &["auth", "whoami", "-o", "json"],
        ));
        let can = deployer.pass(live_kube(
            &target.kubeconfig,
            &target.context,
            format!("ask {cluster} what the Deployer may do"),
            &["auth", "can-i", "*", "*", "--all-namespaces"],
        ));
        let script = Scripted::Lines(vec![who.to_string(), can.to_string()]);
        let run = async {
            let access = vec![format!("{} access to {cluster}", t.deployer_role)];
            let out = ctx.exec.observe(&who).await?.unwrap_or_default();
            let Some((user, groups)) = whoami(&out.stdout).filter(|_| out.success()) else {
                let error = service_error(&out.stderr);
                let why = if error.contains("logged in") || error.contains("Unauthorized") {
                    format!(
                        "EKS maps {} to no user: Argo CD shows \"the server has asked for the client to provide credentials\"",
                        target.deployer.template()
                    )
                } else {
                    format!("the API of {cluster} refused the Deployer's token")
                };
                let (detail, fix) = explain(checks, &access, &error, &why, fix_testing.clone());
                hops.fail(&api_name, &detail, fix);
                return Ok(());
            };
            let out = ctx.exec.observe(&can).await?.unwrap_or_default();
            let groups = groups.join(",");
            if out.stdout.trim() == "yes" {
                hops.ok(
                    &api_name,
                    &format!("{user} (groups {groups}) may do everything (can-i '*' '*' --all-namespaces)"),
                );
            } else {
                let error = if out.stdout.trim() == "no" {
                    "can-i '*' '*' --all-namespaces: no".to_string()
                } else {
                    service_error(&out.stderr)
                };
                let why = format!(
                    "{user} (groups {groups}) is not a cluster admin: Argo CD cannot deploy (system:masters or AmazonEKSClusterAdminPolicy)"
                );
                let (detail, fix) = explain(checks, &access, &error, &why, fix_testing.clone());
                hops.fail(&api_name, &detail, fix);
            }
            Ok(())
        };
        ctx.exec.either(script, run).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_own_error_line() {
        let aws = "\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n";
        assert_eq!(
            service_error(aws),
            "AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"
        );
        let kubectl = "E1201 memcache.go:265 couldn't get\nerror: You must be logged in to the server (Unauthorized)\n";
        assert_eq!(
            service_error(kubectl),
            "error: You must be logged in to the server (Unauthorized)"
        );
    }

    #[test]
    fn credentials_are_three_words_and_pass_only_through_the_environment() {
        assert!(Creds::parse("A\tB").is_none());
        let c = Creds::parse("ASIAKEY\tSECRETSECRET\tSESSIONTOKEN\n").unwrap();
        let cmd = c.pass(assume_role(
            &Val::known("us-east-1"),
            &Arg::from("arn:aws:iam::1:role/D"),
        ));
        let shown = cmd.to_string();
        assert!(!shown.contains("SECRETSECRET") && !shown.contains("ASIAKEY"), "{shown}");
        assert_eq!(cmd.secret_env_values().count(), 3);
        let hops = Hops {
            list: Vec::new(),
            secrets: c.secrets(),
        };
        assert_eq!(hops.scrub("x SECRETSECRET y"), "x <redacted> y");
    }

    #[test]
    fn the_token_file_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t");
        let f = TokenFile::write(path.clone(), "tok").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        drop(f);
        assert!(!path.exists());
    }
}
