//! An HTTP request as a value, like [`crate::cmd::Cmd`]: the real executor sends it (with
//! timeouts and bounded retries), the dry-run executor prints it as the equivalent `curl`.
//!
//! The API key is never part of the printed form: the script refers to `$HARNESS_API_KEY`, and
//! the key itself lives in a `SecretString` that only the real sender reads.

use crate::cmd::{Arg, Effect, quote};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;

/// The output of a printed request whose answer must not reach the terminal.
pub(crate) const DISCARD: &str = "/dev/null";

/// The shell variable the dry-run script reads the API key from.
pub(crate) const API_KEY_VAR: &str = "HARNESS_API_KEY";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// JSON body; may hold run-time values as shell variables in a dry-run.
    pub body: Option<Arg>,
    pub api_key: Option<SecretString>,
    pub purpose: String,
    pub effect: Effect,
    /// A secret query parameter (the agent's private key): sent, never printed; the printed
    /// form refers to a shell variable instead.
    pub secret_param: Option<SecretParam>,
    /// Where the printed `curl` saves the answer (`-o FILE`, in a `umask 077` subshell: the
    /// answer is a secret; [`DISCARD`]: an answer that holds a secret nobody needs). A real run
    /// reads the answer and writes any file itself.
    pub output: Option<std::path::PathBuf>,
}

#[derive(Clone, Debug)]
pub(crate) struct SecretParam {
    pub name: &'static str,
    pub value: SecretString,
    /// The shell variable the printed form names instead of the value.
    pub var: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct HttpResponse {
    pub status: u16,
    pub body: String,
}

impl HttpRequest {
    /// The script's form of a request for which "gone already" (404) is as good as done: it
    /// fails on any other status but 200 (a script cannot tell how far an earlier run got).
    pub(crate) fn script_accepting_not_found(&self) -> String {
        let probe = self.to_string().replacen(
            "curl -sS --fail-with-body",
            "curl -sS -o /dev/null -w '%{http_code}'",
            1,
        );
        format!(
            "HTTP_STATUS=$({probe}); [ \"$HTTP_STATUS\" = 200 ] || [ \"$HTTP_STATUS\" = 404 ] || {{ echo \"failed to {}: HTTP $HTTP_STATUS\" >&2; exit 1; }}",
            self.purpose
        )
    }
}

impl fmt::Display for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let private = self
            .output
            .as_deref()
            .is_some_and(|o| o != std::path::Path::new(DISCARD));
        if private {
            write!(f, "(umask 077 && ")?;
        }
        write!(f, "curl -sS --fail-with-body -X {}", self.method.as_str())?;
        if self.api_key.is_some() {
            write!(f, " -H \"x-api-key: ${{{API_KEY_VAR}}}\"")?;
        }
        if let Some(body) = &self.body {
            write!(f, " -H 'Content-Type: application/json' --data-binary {}", body.shell())?;
        }
        match &self.output {
            Some(_) if !private => write!(f, " -o {DISCARD}")?,
            Some(out) => write!(f, " --create-dirs -o {}", quote(&out.to_string_lossy()))?,
            None => {}
        }
        write!(f, " {}", quote(&self.url))?;
        if let Some(p) = &self.secret_param {
            write!(f, "'&{}='\"${{{}}}\"", p.name, p.var)?;
        }
        if private {
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl HttpRequest {
    /// The URL as sent: with the secret parameter's value (never displayed).
    fn wire_url(&self) -> String {
        match &self.secret_param {
            Some(p) => format!(
                "{}&{}={}",
                self.url,
                p.name,
                percent_encoding::utf8_percent_encode(p.value.expose_secret(), percent_encoding::NON_ALPHANUMERIC)
            ),
            None => self.url.clone(),
        }
    }
}

/// Timeouts and retry policy of the real sender.
#[derive(Clone, Debug)]
pub(crate) struct HttpPolicy {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub attempts: u32,
    pub first_backoff: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            attempts: 4,
            first_backoff: Duration::from_millis(500),
        }
    }
}

fn retryable(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Sends once; `Err` is a transport failure (connection refused, timeout, TLS).
fn send_once(agent: &ureq::Agent, req: &HttpRequest) -> Result<HttpResponse, String> {
    let key = req.api_key.as_ref().map(|k| k.expose_secret().to_string());
    let url = req.wire_url();
    // deploy.yaml answers YAML (harness-go-sdk asks for `application/x-yml`).
    let accept = if req.url.contains("/deploy.yaml?") {
        "application/x-yml"
    } else {
        "application/json"
    };
    let result = match (req.method, &req.body) {
        (Method::Get, _) => {
            let mut r = agent.get(&url).header("Accept", accept);
            if let Some(k) = &key {
                r = r.header("x-api-key", k);
            }
            r.call()
        }
        (Method::Delete, _) => {
            let mut r = agent.delete(&url).header("Accept", "application/json");
            if let Some(k) = &key {
                r = r.header("x-api-key", k);
            }
            r.call()
        }
        (Method::Post, body) => {
            let mut r = agent
                .post(&url)
                .header("Accept", "application/json")
                .header("Content-Type", "application/json");
            if let Some(k) = &key {
                r = r.header("x-api-key", k);
            }
            r.send(body.as_ref().map(Arg::value).unwrap_or_default())
        }
    };
    let mut resp = result.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Ok(HttpResponse { status, body })
}

/// Sends with retries on 429, 5xx and transport errors (exponential backoff). Blocking: call it
/// from `spawn_blocking`.
pub(crate) fn send(req: &HttpRequest, policy: &HttpPolicy) -> Result<HttpResponse, String> {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(policy.connect_timeout))
        .timeout_global(Some(policy.request_timeout))
        .http_status_as_error(false)
        // A redirect would carry the API key to whatever host it names.
        .max_redirects(0)
        .build();
    let agent: ureq::Agent = config.into();
    let mut backoff = policy.first_backoff;
    let mut last = String::new();
    for attempt in 1..=policy.attempts.max(1) {
        match send_once(&agent, req) {
            Ok(resp) if !retryable(resp.status) => return Ok(resp),
            Ok(resp) => {
                last = format!("HTTP {}", resp.status);
                if attempt == policy.attempts {
                    return Ok(resp);
                }
            }
            Err(e) => last = e,
        }
        if attempt < policy.attempts {
            std::thread::sleep(backoff);
            backoff *= 2;
        }
    }
    Err(format!("{last} (after {} attempts)", policy.attempts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::Val;

    #[test]
    fn curl_form_never_holds_the_key() {
        let req = HttpRequest {
            method: Method::Post,
            url: "https://app.harness.io/gateway/gitops/api/v1/agents/a/clusters?accountIdentifier=x&identifier=t"
                .into(),
            body: Some(Arg::concat([
                Val::known("{\"server\":\""),
                Val::var("EP"),
                Val::known("\"}"),
            ])),
            api_key: Some(SecretString::from("sekrit-value")),
            purpose: "register".into(),
            effect: Effect::Mutate,
            secret_param: None,
            output: None,
        };
        let text = req.to_string();
        assert!(!text.contains("sekrit"), "{text}");
        assert!(!format!("{req:?}").contains("sekrit"));
        assert!(text.contains("-H \"x-api-key: ${HARNESS_API_KEY}\""), "{text}");
        assert!(text.contains("--data-binary '{\"server\":\"'\"${EP}\"'\"}'"), "{text}");
    }

    #[test]
    fn a_secret_parameter_is_sent_but_printed_as_a_variable() {
        let req = HttpRequest {
            method: Method::Get,
            url: "https://h/deploy.yaml?accountIdentifier=a&namespace=iam".into(),
            body: None,
            api_key: Some(SecretString::from("k")),
            purpose: "download".into(),
            effect: Effect::Read,
            secret_param: Some(SecretParam {
                name: "privateKey",
                value: SecretString::from("c2Vj+cmV0"),
                var: "AGENT_PRIVATE_KEY",
            }),
            output: Some(".gitops-iam/agent/a.yaml".into()),
        };
        let text = req.to_string();
        assert_eq!(
            text,
            "(umask 077 && curl -sS --fail-with-body -X GET -H \"x-api-key: ${HARNESS_API_KEY}\" --create-dirs -o .gitops-iam/agent/a.yaml 'https://h/deploy.yaml?accountIdentifier=a&namespace=iam''&privateKey='\"${AGENT_PRIVATE_KEY}\")"
        );
        assert!(!format!("{req:?}").contains("c2Vj"));
        assert_eq!(
            req.wire_url(),
            "https://h/deploy.yaml?accountIdentifier=a&namespace=iam&privateKey=c2Vj%2BcmV0"
        );
    }
}
