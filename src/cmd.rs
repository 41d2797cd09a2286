//! An external command as a value.
//!
//! Every call the tool makes to `aws`, `eksctl` or `kubectl` is built as a [`Cmd`] first. The real
//! executor runs it (argv only, never through a shell) and the dry-run executor prints it; both
//! read the same value, so the printed script cannot drift from what a real run does.
//!
//! Arguments can contain values that only exist at run time (the account id, the OIDC issuer).
//! They are [`Val`]s: in a real run they hold the value that a read-only command returned; in a
//! dry-run they are shell variables that the script fills with that same read-only command.

use crate::resource::{Resource, Selector};
use std::fmt;
use std::time::Duration;

/// A value that is known, or that a dry-run script captures into a shell variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Known(String),
    /// The name of the shell variable holding it (dry-run only).
    Var(String),
}

impl Val {
    pub(crate) fn known(s: impl Into<String>) -> Self {
        Val::Known(s.into())
    }

    /// The value in a real run. Panics on a variable: real runs resolve every value first, so a
    /// variable here is a programming error, not a user error.
    pub(crate) fn value(&self) -> &str {
        match self {
            Val::Known(s) => s,
            Val::Var(name) => panic!("${name} is only known in a dry-run script"),
        }
    }
}

impl Val {
    pub(crate) fn var(name: impl Into<String>) -> Self {
        Val::Var(name.into())
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Known(s.to_string())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Known(s)
    }
}

/// One argument: literal text and values, concatenated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Arg(Vec<Val>);

impl Arg {
    pub(crate) fn concat(parts: impl IntoIterator<Item = Val>) -> Self {
        Arg(parts.into_iter().collect())
    }

    pub(crate) fn parts(&self) -> &[Val] {
        &self.0
    }

    /// The argument in a real run.
    pub(crate) fn value(&self) -> String {
        self.0.iter().map(Val::value).collect()
    }

    /// Whether every part is known (false inside a dry-run for run-time values).
    pub(crate) fn is_known(&self) -> bool {
        self.0.iter().all(|v| matches!(v, Val::Known(_)))
    }

    /// The argument as one bash word: literal text quoted, variables expanded in double quotes.
    pub(crate) fn shell(&self) -> String {
        if self.is_known() {
            return quote(&self.value());
        }
        let literal_safe_in_dquotes = self.0.iter().all(|v| match v {
            Val::Known(s) => !s.contains(['"', '\\', '$', '`', '!']),
            Val::Var(_) => true,
        });
        if literal_safe_in_dquotes {
            let inner: String = self
                .0
                .iter()
                .map(|v| match v {
                    Val::Known(s) => s.clone(),
                    Val::Var(name) => format!("${{{name}}}"),
                })
                .collect();
            return format!("\"{inner}\"");
        }
        self.0
            .iter()
            .map(|v| match v {
                Val::Known(s) => quote(s),
                Val::Var(name) => format!("\"${{{name}}}\""),
            })
            .collect()
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg(vec![Val::known(s)])
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg(vec![Val::Known(s)])
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Self {
        Arg(vec![Val::known(s.as_str())])
    }
}

impl From<Val> for Arg {
    fn from(v: Val) -> Self {
        Arg(vec![v])
    }
}

impl From<&Val> for Arg {
    fn from(v: &Val) -> Self {
        Arg(vec![v.clone()])
    }
}

/// Quotes one word for bash. shlex 2 refuses only NUL bytes, which no argv can carry anyway.
pub(crate) fn quote(word: &str) -> String {
    shlex::try_quote(word)
        .map(std::borrow::Cow::into_owned)
        .unwrap_or_else(|_| format!("'{}'", word.replace('\0', "").replace('\'', r"'\''")))
}

/// Whether a command changes anything. The converge contract ("a second run issues no mutating
/// command") is checked against this, so every builder must say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    Read,
    Mutate,
}

#[derive(Clone, Debug)]
pub(crate) struct Cmd {
    pub program: &'static str,
    pub args: Vec<Arg>,
    /// What the command is for, completing "failed to ...".
    pub purpose: String,
    pub effect: Effect,
    /// Extra environment for the child (never secrets: those stay out of commands entirely).
    pub env: Vec<(String, String)>,
    /// Environment that pins the tool's own conventions (error format, no prompts), the same for
    /// every call of the program. Not printed per command: a dry-run script exports it once.
    pub conventions: &'static [(&'static str, &'static str)],
    /// Upper bound on the run time; `None` means the executor's default.
    pub timeout: Option<Duration>,
    /// What the command reads or changes (`aws:prod:iam-role/ArgoCD`). Running a command
    /// invalidates what was read ahead about its resource and everything inside it.
    pub resource: Option<Resource>,
    /// Other resources the command reads or changes besides `resource`: a cluster creation
    /// writes the cluster's kubeconfig, `get-role` reads the role's trust policy (which
    /// `update-assume-role-policy` changes without touching the role's inline policies).
    pub also: Vec<Resource>,
    /// Long and independent (a cluster creation): a dry-run script runs it in the background
    /// and waits for it before the next command.
    pub background: bool,
    /// A documented propagation error this command may meet and the executor waits out.
    pub retry: Option<crate::propagation::Propagation>,
    /// Secret environment (temporary credentials, `verify --live`): passed to the child, never
    /// printed. In a dry-run the values are the shell variables holding them, which `Display`
    /// names; known values are left out of it, so logs and errors cannot show them.
    pub secret_env: Vec<(&'static str, Val)>,
}

impl Cmd {
    pub(crate) fn new(program: &'static str, effect: Effect, purpose: impl Into<String>) -> Self {
        Cmd {
            program,
            args: Vec::new(),
            purpose: purpose.into(),
            effect,
            env: Vec::new(),
            conventions: &[],
            timeout: None,
            resource: None,
            also: Vec::new(),
            background: false,
            retry: None,
            secret_env: Vec::new(),
        }
    }

    /// Adds a secret variable to the child's environment (see [`Cmd::secret_env`]).
    #[must_use]
    pub(crate) fn secret_env(mut self, key: &'static str, value: Val) -> Self {
        self.secret_env.push((key, value));
        self
    }

    /// The secret environment of a real run (values only known ones have).
    pub(crate) fn secret_env_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.secret_env.iter().filter_map(|(k, v)| match v {
            Val::Known(s) => Some((*k, s.as_str())),
            Val::Var(_) => None,
        })
    }

    /// Waits out `p` (bounded by `--propagation-timeout`) instead of failing on it.
    #[must_use]
    pub(crate) fn retry_on(mut self, p: crate::propagation::Propagation) -> Self {
        self.retry = Some(p);
        self
    }

    #[must_use]
    pub(crate) fn in_background(mut self) -> Self {
        self.background = true;
        self
    }

    #[must_use]
    pub(crate) fn resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Also reads or changes `resource` (see [`Cmd::also`]).
    #[must_use]
    pub(crate) fn and_resource(mut self, resource: Resource) -> Self {
        self.also.push(resource);
        self
    }

    /// Every resource the command reads or changes.
    pub(crate) fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resource.iter().chain(&self.also)
    }

    /// Whether the command reads or changes something `what` selects.
    pub(crate) fn is_about(&self, what: &Selector) -> bool {
        self.resources().any(|r| what.selects(r))
    }

    /// What running the command may change: its resources, or anything when it is a mutation
    /// that names none.
    pub(crate) fn changes(&self) -> Vec<Selector> {
        match (&self.resource, self.is_mutating()) {
            (None, true) => vec![Selector::All],
            _ => self.resources().cloned().map(Selector::Under).collect(),
        }
    }

    /// Whether every argument is known (false for one that names a dry-run or plan variable).
    pub(crate) fn is_known(&self) -> bool {
        self.args.iter().all(Arg::is_known)
    }

    #[must_use]
    pub(crate) fn arg(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    #[must_use]
    pub(crate) fn args<A: Into<Arg>>(mut self, args: impl IntoIterator<Item = A>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    #[must_use]
    pub(crate) fn conventions(mut self, conventions: &'static [(&'static str, &'static str)]) -> Self {
        self.conventions = conventions;
        self
    }

    /// Everything the child's environment gets on top of ours: the conventions, then `env`.
    pub(crate) fn child_env(&self) -> impl Iterator<Item = (&str, &str)> {
        let conventions = self.conventions.iter().map(|&(k, v)| (k, v));
        conventions.chain(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    #[must_use]
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub(crate) fn is_mutating(&self) -> bool {
        self.effect == Effect::Mutate
    }

    /// argv after the program, for a real run.
    pub(crate) fn argv(&self) -> Vec<String> {
        self.args.iter().map(Arg::value).collect()
    }
}

/// The exact shell form: the same string is logged, shown in errors and printed by dry-run.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            write!(f, "{k}={} ", quote(v))?;
        }
        for (k, v) in &self.secret_env {
            if let Val::Var(name) = v {
                write!(f, "{k}=\"${{{name}}}\" ")?;
            }
        }
        f.write_str(self.program)?;
        for arg in &self.args {
            write!(f, " {}", arg.shell())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Runs bash on `script` and returns its stdout.
    fn bash(script: &str) -> String {
        let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn quoting_round_trips_through_bash() {
        let nasty = [
            "plain",
            "with space",
            "it's",
            "dq\"uote",
            "$HOME",
            "`id`",
            "a{b,c}",
            "*glob?",
            "semi;colon",
            "new\nline",
            "tab\there",
            "back\\slash",
            "!bang",
            "~tilde",
            "",
            "ünïcødé",
            "{\"Version\":\"2012-10-17\"}",
        ];
        for word in nasty {
            let cmd = Cmd::new("printf", Effect::Read, "t").arg("%s").arg(word);
            assert_eq!(bash(&cmd.to_string()), word, "{cmd}");
        }
    }

    #[test]
    fn variables_expand_inside_one_word() {
        let arg = Arg::concat([
            Val::known("arn:aws:iam::"),
            Val::var("ACCOUNT_ID"),
            Val::known(":role/Argo CD"),
        ]);
        assert_eq!(arg.shell(), "\"arn:aws:iam::${ACCOUNT_ID}:role/Argo CD\"");
        let out = bash(&format!("ACCOUNT_ID=123456789012; printf %s {}", arg.shell()));
        assert_eq!(out, "arn:aws:iam::123456789012:role/Argo CD");

        let tricky = Arg::concat([Val::known("$x'\"`"), Val::var("V")]);
        let out = bash(&format!("V='a b'; printf %s {}", tricky.shell()));
        assert_eq!(out, "$x'\"`a b");
    }

    #[test]
    fn display_is_shell_form() {
        let cmd = Cmd::new("aws", Effect::Mutate, "create role")
            .args(["iam", "create-role", "--role-name", "ArgoCD", "--description"])
            .arg("IAM Role to be used");
        assert_eq!(
            cmd.to_string(),
            "aws iam create-role --role-name ArgoCD --description 'IAM Role to be used'"
        );
        assert!(cmd.is_mutating());
        assert_eq!(cmd.argv()[4], "--description");
    }

    #[test]
    fn secret_env_is_never_displayed_only_its_variable() {
        let cmd = Cmd::new("aws", Effect::Read, "t")
            .secret_env("AWS_SESSION_TOKEN", Val::known("s3cr3t"))
            .arg("sts");
        assert_eq!(cmd.to_string(), "aws sts");
        assert_eq!(
            cmd.secret_env_values().collect::<Vec<_>>(),
            [("AWS_SESSION_TOKEN", "s3cr3t")]
        );
        let script = Cmd::new("aws", Effect::Read, "t").secret_env("AWS_SESSION_TOKEN", Val::var("AGENT_SESSION"));
        assert_eq!(script.to_string(), "AWS_SESSION_TOKEN=\"${AGENT_SESSION}\" aws");
    }

    #[test]
    #[should_panic(expected = "only known in a dry-run")]
    fn variables_have_no_real_value() {
        Val::var("X").value();
    }
}

/// Marks a variable inside text that is serialized (JSON) before it becomes an argument.
const OPEN: char = '\u{27EA}';
const CLOSE: char = '\u{27EB}';

impl Arg {
    /// The argument as text where variables are markers; see [`Arg::from_template`].
    pub(crate) fn template(&self) -> String {
        self.text_with(|name| format!("{OPEN}{name}{CLOSE}"))
    }

    /// The text with each variable as `${NAME}`, for showing (not quoting) it.
    pub(crate) fn shell_text(&self) -> String {
        self.text_with(|name| format!("${{{name}}}"))
    }

    fn text_with(&self, var: impl Fn(&str) -> String) -> String {
        self.0
            .iter()
            .map(|v| match v {
                Val::Known(s) => s.clone(),
                Val::Var(name) => var(name),
            })
            .collect()
    }

    /// Turns text with markers back into an argument: lets a JSON document that embeds run-time
    /// values be serialized once, then printed with shell variables or sent with real values.
    pub(crate) fn from_template(text: &str) -> Arg {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(OPEN) {
            let after = &rest[start + OPEN.len_utf8()..];
            let Some(end) = after.find(CLOSE) else { break };
            if start > 0 {
                parts.push(Val::known(&rest[..start]));
            }
            parts.push(Val::var(&after[..end]));
            rest = &after[end + CLOSE.len_utf8()..];
        }
        if !rest.is_empty() || parts.is_empty() {
            parts.push(Val::known(rest));
        }
        Arg(parts)
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;

    #[test]
    fn template_round_trip_through_json() {
        let server = Arg::concat([Val::known("https://"), Val::var("HOST")]);
        let doc = serde_json::json!({"server": server.template(), "n": 1});
        let arg = Arg::from_template(&doc.to_string());
        assert_eq!(arg.shell(), "'{\"n\":1,\"server\":\"https://'\"${HOST}\"'\"}'");
        let known = Arg::from_template(&serde_json::json!({"a": "b"}).to_string());
        assert!(known.is_known());
        assert_eq!(known.value(), "{\"a\":\"b\"}");
    }
}
