//! What the remote module source tests serve from: a small HTTP/1.1 server on loopback (one
//! thread per connection, every request logged) that answers with a closure, and a CGI bridge
//! to git's own smart HTTP server (`git http-backend`), so that git clients talk to a real git
//! server over HTTP with basic auth in front.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path, percent-encoded as sent, without the query.
    pub path: String,
    pub query: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// Whether the request carries basic auth `user:password`.
    pub fn has_basic_auth(&self, user: &str, password: &str) -> bool {
        use base64::Engine as _;
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.header("authorization") == Some(format!("Basic {expected}").as_str())
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn ok(body: impl Into<Vec<u8>>) -> Response {
        Response {
            body: body.into(),
            ..Response::new(200)
        }
    }

    pub fn json(value: &serde_json::Value) -> Response {
        Response::ok(value.to_string()).header("content-type", "application/json")
    }

    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// One logged request: method, path, and the status answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// A git request asking for objects (a fetch), not only for refs.
    pub git_fetch: bool,
}

/// A loopback HTTP server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Logged>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Serves `handler` on a free loopback port.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, log) = (handler.clone(), log2.clone());
                std::thread::spawn(move || serve(conn, &*handler, &log));
            }
        });
        Server { addr, log, stop }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Requests whose path ends with `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(conn: TcpStream, handler: &Handler, log: &Mutex<Vec<Logged>>) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    loop {
        let Some(req) = read_request(&mut reader, &mut out) else {
            return;
        };
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let resp = handler(&req);
        log.lock().unwrap_or_else(|p| p.into_inner()).push(Logged {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            status: resp.status,
            git_fetch: asks_for_objects(&req),
        });
        let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
        for (k, v) in &resp.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", resp.body.len()));
        if out.write_all(head.as_bytes()).is_err() || out.write_all(&resp.body).is_err() {
            return;
        }
        let _ = out.flush();
        if close {
            return;
        }
    }
}

/// Whether a git-upload-pack request wants objects (protocol v2 `command=fetch`, or v0 `want`
/// lines), reading through a gzip request encoding.
fn asks_for_objects(req: &Request) -> bool {
    if !req.path.ends_with("/git-upload-pack") {
        return false;
    }
    let body = if req
        .header("content-encoding")
        .is_some_and(|e| e.contains("gzip"))
    {
        let mut out = Vec::new();
        let _ = flate2::read::GzDecoder::new(req.body.as_slice()).read_to_end(&mut out);
        out
    } else {
        req.body.clone()
    };
    let text = String::from_utf8_lossy(&body);
    text.contains("command=fetch") || text.contains("want ")
}

impl Server {
    /// git requests that fetched objects.
    pub fn git_fetches(&self) -> usize {
        self.requests().iter().filter(|r| r.git_fetch).count()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Status",
    }
}

fn read_request(reader: &mut BufReader<TcpStream>, out: &mut TcpStream) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").ok()?;
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end).ok()?;
                break;
            }
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).ok()?;
            chunk.truncate(n);
            body.extend(chunk);
        }
    } else if let Some(n) = headers.get("content-length").and_then(|n| n.parse().ok()) {
        body = vec![0; n];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

/// Answers `req` with `git http-backend` serving the repositories under `root` (the request's
/// path, less `prefix`, names the repository and the smart HTTP endpoint).
pub fn git_http_backend(root: &Path, prefix: &str, req: &Request, user: Option<&str>) -> Response {
    let path_info = req.path.strip_prefix(prefix).unwrap_or(&req.path);
    let mut cmd = std::process::Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &req.method)
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", &req.query)
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if let Some(t) = req.header("content-type") {
        cmd.env("CONTENT_TYPE", t);
    }
    if let Some(p) = req.header("git-protocol") {
        cmd.env("GIT_PROTOCOL", p);
    }
    if let Some(e) = req.header("content-encoding") {
        cmd.env("HTTP_CONTENT_ENCODING", e);
    }
    if let Some(u) = user {
        cmd.env("REMOTE_USER", u);
    }
    let Ok(mut child) = cmd.spawn() else {
        return Response::new(500);
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(&req.body);
    }
    let Ok(out) = child.wait_with_output() else {
        return Response::new(500);
    };
    // CGI: headers, a blank line, the body.
    let bytes = out.stdout;
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| bytes.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let Some((at, sep)) = split else {
        return Response::new(500);
    };
    let head = String::from_utf8_lossy(&bytes[..at]).to_string();
    let mut resp = Response::ok(bytes[at + sep..].to_vec());
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("status") {
            resp.status = v
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else {
            resp.headers.push((k.to_string(), v.to_string()));
        }
    }
    resp
}

/// Runs git with the test's identity; panics with its output when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Module Author")
        .env("GIT_AUTHOR_EMAIL", "modules@example.com")
        .env("GIT_COMMITTER_NAME", "Module Author")
        .env("GIT_COMMITTER_EMAIL", "modules@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A modules repository in `dir` (created), written and committed with the git command.
pub struct ModuleRepo {
    pub dir: std::path::PathBuf,
}

impl ModuleRepo {
    pub fn init(dir: &Path) -> ModuleRepo {
        std::fs::create_dir_all(dir).expect("mkdir");
        git(dir, &["init", "-q", "-b", "main"]);
        ModuleRepo {
            dir: dir.to_path_buf(),
        }
    }

    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
        self
    }

    /// Commits everything; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "-m", message]);
        git(&self.dir, &["rev-parse", "HEAD"])
    }

    /// An annotated tag at HEAD.
    pub fn tag(&self, name: &str) -> &Self {
        git(&self.dir, &["tag", "-a", name, "-m", name]);
        self
    }

    /// `git::file://<dir>`.
    pub fn file_source(&self) -> String {
        format!("git::file://{}", self.dir.display())
    }
}

/// A `.tar.gz` of the directory `dir`'s contents, made with the system's tar (links kept as
/// links).
pub fn tar_gz(dir: &Path) -> Vec<u8> {
    let out = std::process::Command::new("tar")
        .args(["-czf", "-", "-C"])
        .arg(dir)
        .arg(".")
        .output()
        .expect("run tar");
    assert!(out.status.success(), "tar failed");
    out.stdout
}
