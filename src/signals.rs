//! The signals that stop a run, listened for while it runs (see `RealExecutor::interrupt` for
//! what the children get).

use crate::error::{Error, Result};

/// The signals that stop a run: Ctrl-C, CI cancellation (SIGTERM), a closed terminal (SIGHUP).
/// One that was ignored when we started (`nohup`, a background job's SIGINT) stays ignored, as
/// it does for the children, which inherit that.
pub(crate) struct Signals {
    streams: Vec<(crate::error::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    pub(crate) fn new() -> Result<Self> {
        use crate::error::Signal;
        use tokio::signal::unix::{SignalKind, signal};
        let mut streams = Vec::new();
        for (sig, kind) in [
            (Signal::Interrupt, SignalKind::interrupt()),
            (Signal::Terminate, SignalKind::terminate()),
            (Signal::Hangup, SignalKind::hangup()),
        ] {
            if ignored(sig.number()) {
                continue;
            }
            let stream =
                signal(kind).map_err(|e| Error::Other(anyhow::anyhow!("listening for {}: {e}", sig.name())))?;
            streams.push((sig, stream));
        }
        Ok(Signals { streams })
    }

    /// The next signal; never, when every one is ignored.
    pub(crate) async fn recv(&mut self) -> crate::error::Signal {
        if self.streams.is_empty() {
            return std::future::pending().await;
        }
        let waits = self
            .streams
            .iter_mut()
            .map(|(sig, stream)| Box::pin(async move { stream.recv().await.map(|()| *sig) }));
        match futures_util::future::select_all(waits).await {
            (Some(sig), _, _) => sig,
            (None, _, _) => std::future::pending().await,
        }
    }
}

/// Whether the signal's disposition is "ignore".
fn ignored(signal: i32) -> bool {
    // SAFETY: sigaction(2) with a null new action only reads the current one into `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}
