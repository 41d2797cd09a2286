//! The sandbox's Harness GitOps API stand-in (`tests/sandbox/harness_api.py`) as a process of one
//! test, so the tests of `register`, `verify`, `down` and `agent install` talk to the same model
//! of Harness as the end-to-end tests (docs/sandbox.md, "Harness GitOps API stand-in").
//!
//! Start is cheap: a fork server (`tests/sandbox/harness_forks.py`, one for the whole run, on a
//! Unix socket in `CARGO_TARGET_TMPDIR`) that has imported the stand-in forks one per test, in
//! milliseconds instead of the 0.2 s of CPU a fresh Python takes. The test kills its stand-in by
//! PID when the [`HarnessApi`] drops, on every path (a failed assertion unwinds through the
//! drop); should the test die first, the stand-in sees its connection close and stops.
//!
//! What a test needs beyond the model: [`HarnessApi::requests`], every request verbatim (raw
//! query, key, content type, body); [`HarnessApi::answer`], the stand-in's fault injection
//! (`tests/sandbox/fault_answer.py`), for the answers a real service gives when it fails.

use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};

/// The stand-in, serving on 127.0.0.1 until dropped.
pub struct HarnessApi {
    pid: i32,
    url: String,
    /// Held open while the stand-in is needed: its end of it closing stops the stand-in.
    _connection: UnixStream,
    /// Its working directory (no `clusters/` for the agent health to read) and `harness.log`.
    dir: tempfile::TempDir,
}

/// One request as it reached the stand-in.
#[derive(Debug, Deserialize)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The query string as sent (order and encoding kept).
    pub query: String,
    /// `x-api-key` and `content-type`, when sent.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Request {
    /// "METHOD path?query".
    pub fn line(&self) -> String {
        if self.query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.query)
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    #[track_caller]
    pub fn body_json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{}: body is not JSON ({e}): {}", self.line(), self.body))
    }

    /// The decoded value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    }
}

/// An answer the stand-in gives instead of its own (`POST /_sandbox/fail-next`).
pub struct Answer(Value);

impl Answer {
    /// `status` with `body` as JSON, to the next `method` on `path`.
    pub fn json(method: &str, path: &str, status: u16, body: Value) -> Self {
        Self(json!({"method": method, "path": path, "status": status, "body": body}))
    }

    /// `status` with `body` as is; `content_type` `None` sends no Content-Type.
    pub fn raw(method: &str, path: &str, status: u16, body: &str, content_type: Option<&str>) -> Self {
        Self(json!({"method": method, "path": path, "status": status, "body": body, "content_type": content_type}))
    }

    /// To every matching call from then on, not only the next.
    pub fn always(self) -> Self {
        self.times(-1)
    }

    pub fn times(mut self, count: i64) -> Self {
        self.0["count"] = json!(count);
        self
    }

    /// Lets the first `n` matching calls through to the model.
    pub fn after(mut self, n: u32) -> Self {
        self.0["skip"] = json!(n);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.0["headers"][name] = json!(value);
        self
    }
}

impl HarnessApi {
    /// The stand-in accepting `key`, knowing the agents `agents` (`--agents`), answering a
    /// missing cluster with a 404 (`SANDBOX_HARNESS_MISSING=404`) when `missing_404`.
    pub fn start(key: &str, agents: &[&str], missing_404: bool) -> Self {
        let dir = tempfile::tempdir().expect("a directory for the stand-in");
        let spec = json!({
            "key": key,
            "agents": agents.join(","),
            "missing": if missing_404 { "404" } else { "200" },
            "dir": dir.path(),
        });
        // A fork server that was just timing out closes without answering: ask the next one.
        for _ in 0..3 {
            let mut connection = fork_server();
            if writeln!(connection, "{spec}").is_err() {
                continue;
            }
            let mut line = String::new();
            let mut reader = BufReader::new(connection.try_clone().expect("a second handle"));
            if reader.read_line(&mut line).is_err() || line.is_empty() {
                continue;
            }
            let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("fork server: {e}: {line}"));
            let pid = i32::try_from(ready["pid"].as_i64().expect("a pid")).expect("a pid");
            let url = format!("http://127.0.0.1:{}", ready["port"]);
            return Self {
                pid,
                url,
                _connection: connection,
                dir,
            };
        }
        panic!("no Harness stand-in from tests/sandbox/harness_forks.py");
    }

    /// The base URL (`--harness-url`).
    pub fn uri(&self) -> String {
        self.url.clone()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        let (status, body) = self.call("GET", "/_sandbox/requests", None);
        assert_eq!(status, 200, "GET /_sandbox/requests: {body}");
        let view: Value = serde_json::from_str(&body).expect("/_sandbox/requests is JSON");
        serde_json::from_value(view["requests"].clone()).expect("requests as documented")
    }

    /// Forgets the requests so far (those a test made to set the stand-in up).
    pub fn forget_requests(&self) {
        let (status, body) = self.call("DELETE", "/_sandbox/requests", None);
        assert_eq!(status, 200, "DELETE /_sandbox/requests: {body}");
    }

    /// `GET /_sandbox/WHAT` (`clusters`, `agents`) as JSON.
    pub fn view(&self, what: &str) -> Value {
        let (status, body) = self.call("GET", &format!("/_sandbox/{what}"), None);
        assert_eq!(status, 200, "GET /_sandbox/{what}: {body}");
        serde_json::from_str(&body).expect("a sandbox view is JSON")
    }

    /// Queues `answer` (fault injection).
    pub fn answer(&self, answer: Answer) -> &Self {
        let (status, body) = self.call("POST", "/_sandbox/fail-next", Some(&answer.0));
        assert_eq!(status, 200, "POST /_sandbox/fail-next: {body}");
        self
    }

    /// A Harness API call as a client would make it, with `key`: (status, body).
    pub fn api(&self, method: &str, path_and_query: &str, key: &str, body: Option<&Value>) -> (u16, Value) {
        let (status, text) = self.send(method, path_and_query, Some(key), body);
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
        self.send(method, path, None, body)
    }

    fn send(&self, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let result = match (method, body) {
            ("GET", _) => with_key(agent.get(&url), key).call(),
            ("DELETE", _) => with_key(agent.delete(&url), key).call(),
            (_, Some(body)) => with_key(agent.post(&url), key).send_json(body),
            (_, None) => with_key(agent.post(&url), key).send_empty(),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {url}: {e}\n{}", self.log_text()));
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (resp.status().as_u16(), text)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("harness.log")).unwrap_or_default()
    }
}

fn with_key<B>(request: ureq::RequestBuilder<B>, key: Option<&str>) -> ureq::RequestBuilder<B> {
    match key {
        Some(k) => request.header("x-api-key", k),
        None => request,
    }
}

/// A connection to the run's fork server, started (under a lock, so once) when there is none.
fn fork_server() -> UnixStream {
    let socket = Path::new(env!("CARGO_TARGET_TMPDIR")).join("harness-forks.sock");
    if let Ok(connection) = UnixStream::connect(&socket) {
        return connection;
    }
    let lock = std::fs::File::create(socket.with_extension("lock")).expect("the fork server's lock");
    // SAFETY: flock on a file this function owns; released when `lock` closes.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0, "flock");
    if let Ok(connection) = UnixStream::connect(&socket) {
        return connection;
    }
    let _ = std::fs::remove_file(&socket);
    start_fork_server(&socket);
    UnixStream::connect(&socket).unwrap_or_else(|e| panic!("fork server {}: {e}", socket.display()))
}

/// Runs `harness_forks.py`, which returns once its socket listens and leaves the fork server in
/// a session of its own (a test's timeout does not take it down with the test), without stdio
/// (the test runner waits for those to close); it exits by itself once idle.
fn start_fork_server(socket: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sandbox/harness_forks.py");
    let status = Command::new("python3")
        // -S: the stand-in is stdlib only, and site's imports are a fifth of its start.
        .arg("-S")
        .arg(script)
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run tests/sandbox/harness_forks.py");
    assert!(status.success(), "tests/sandbox/harness_forks.py: {status}");
}

impl Drop for HarnessApi {
    fn drop(&mut self) {
        // SAFETY: kill has no memory effects; the pid is this test's stand-in, alive until
        // its connection (still held here) closes.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        if std::thread::panicking() {
            eprintln!("Harness stand-in log ({}):\n{}", self.url, self.log_text());
        }
    }
}
