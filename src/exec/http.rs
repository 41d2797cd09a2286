//! HTTP requests (the Harness API), counted and interrupted like the commands: the request
//! itself is `crate::http`'s, sent on a blocking thread.

use super::children::Children;
use crate::cmd::Effect;
use crate::error::{CommandError, Error, Result};
use crate::http::{HttpPolicy, HttpRequest, HttpResponse};

impl Children<'_> {
    /// Sends `req` with `policy`'s retries and timeouts, in a span of the diagnostic log.
    pub(super) async fn send(&self, req: &HttpRequest, policy: &HttpPolicy) -> Result<HttpResponse> {
        crate::log::request(req, self.send_traced(req, policy)).await
    }

    async fn send_traced(&self, req: &HttpRequest, policy: &HttpPolicy) -> Result<HttpResponse> {
        let mutating = req.effect == Effect::Mutate;
        self.count(mutating)?;
        self.report.command_text(&req.to_string(), mutating);
        let (req2, policy) = (req.clone(), policy.clone());
        let result = tokio::task::spawn_blocking(move || crate::http::send(&req2, &policy))
            .await
            .map_err(|e| Error::Other(anyhow::anyhow!("HTTP task failed: {e}")))?;
        result.map_err(|e| {
            Error::Command(Box::new(CommandError {
                purpose: req.purpose.clone(),
                command: req.to_string(),
                status: None,
                stderr: String::new(),
                detail: Some(e),
            }))
        })
    }
}
