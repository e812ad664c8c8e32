//! What `expressway bench` calls: the engine in this process, or an endpoint over HTTP
//! (StartSyncExecution in AWS JSON 1.0, or our `POST /execute/{name}`).

use super::load::{Answer, SUCCEEDED, Target, Worker};
use expressway::compile::Program;
use expressway::engine::{Engine, ExecutionMeta};
use std::borrow::Cow;
use std::sync::Arc;

/// One execution on the engine, as `expressway run` does it: input text in, output text out.
pub struct InProcess {
    pub engine: Arc<Engine>,
    pub program: Arc<Program>,
    pub input: String,
    pub meta: ExecutionMeta,
}

impl Target for InProcess {
    type Worker = Arc<InProcess>;
    fn worker(self: &Arc<Self>) -> Arc<InProcess> {
        self.clone()
    }
}

impl Worker for Arc<InProcess> {
    async fn call(&mut self, _want_output: bool) -> Answer {
        let outcome = self
            .engine
            .execute(self.program.clone(), &self.input, self.meta.clone())
            .await;
        Answer {
            status: Cow::Borrowed(outcome.status.as_str()),
            error: outcome.error,
            output: outcome.output,
        }
    }
}

#[cfg(feature = "http-client")]
pub use remote::{Api, Http, Signer};
#[cfg(all(test, feature = "http-client"))]
pub use remote::{execute_answer, start_sync_answer};

#[cfg(feature = "http-client")]
mod remote {
    use super::*;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioIo;
    use std::time::{Duration, SystemTime};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_service::Service;

    /// Largest answer read: a 256 KiB output escaped inside StartSyncExecution's JSON, and headroom.
    const MAX_ANSWER: usize = 8 * 1024 * 1024;

    /// Which API the endpoint is driven through.
    #[derive(Clone, Debug)]
    pub enum Api {
        /// `POST /` with `X-Amz-Target: AWSStepFunctions.StartSyncExecution`.
        StartSync { state_machine_arn: String },
        /// `POST /execute/{name}`, the body being the input.
        Execute { name: String },
    }

    /// SigV4 signing for service `states`, with keys from the environment.
    pub struct Signer {
        identity: Identity,
        region: String,
    }

    impl Signer {
        pub fn new(key: &str, secret: &str, token: Option<String>, region: &str) -> Signer {
            let creds = aws_credential_types::Credentials::new(key, secret, token, None, "env");
            Signer {
                identity: creds.into(),
                region: region.to_string(),
            }
        }

        /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) when both are set.
        pub fn from_env(region: &str) -> Option<Signer> {
            let var = |k| std::env::var(k).ok().filter(|v: &String| !v.is_empty());
            let (key, secret) = (var("AWS_ACCESS_KEY_ID")?, var("AWS_SECRET_ACCESS_KEY")?);
            Some(Signer::new(&key, &secret, var("AWS_SESSION_TOKEN"), region))
        }

        /// Signs `req` (its headers) as a POST of `body` to `url`.
        fn sign(&self, req: &mut http::Request<()>, url: &str, body: &[u8]) -> Result<(), String> {
            let params = v4::SigningParams::builder()
                .identity(&self.identity)
                .region(&self.region)
                .name("states")
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| e.to_string())?
                .into();
            let headers = req
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
            let signable = SignableRequest::new("POST", url, headers, SignableBody::Bytes(body))
                .map_err(|e| e.to_string())?;
            let (instructions, _) = sign(signable, &params)
                .map_err(|e| e.to_string())?
                .into_parts();
            instructions.apply_to_request_http1x(req);
            Ok(())
        }
    }

    /// rustls on the `ring` provider trusting the system's roots (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` replace them, as rustls-native-certs reads them) and the certificates of
    /// `ca_pem` (PEM text) besides.
    pub fn tls_config(ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        // Missing system certificates leave only the ones named: a handshake with anything else
        // then fails and is counted as TlsError.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(pem) = ca_pem {
            let mut added = 0;
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("not a PEM certificate: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("not a usable CA certificate: {e}"))?;
                added += 1;
            }
            if added == 0 {
                return Err("no PEM certificate in it".into());
            }
        }
        // rustls 0.23.48 deprecates the ring provider for lacking post-quantum key exchange; ring
        // is what the AWS request layer uses too (aws-lc-rs needs a C toolchain build).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// Requests to one endpoint, each worker over a keep-alive connection of its own.
    ///
    /// PERF: one HTTP/1.1 exchange per call, written here rather than through hyper's client
    /// connection, which cost ~14 000 instructions per request in callgrind (encoding the head,
    /// the dispatch channel, header maps): the whole request is made once (head and body, one
    /// write), the answer is read into a buffer the worker keeps and its head parsed by httparse
    /// (hyper's own parser) with the headers on the stack, so an unsigned request allocates
    /// nothing. Only with credentials is each request's head made again (SigV4 signs the time).
    /// The whole client now costs ~6 400 instructions per request, from ~62 500 (`valgrind
    /// --tool=callgrind expressway bench --endpoint … --executions N --concurrency 64 --threads 2
    /// --warmup 0` against `expressway serve` with w5_credit, N = 6000 minus N = 1000), and
    /// 10.2 µs of CPU per request from 24.9 (`perf stat -e task-clock`, 22 000 minus 2 000).
    pub struct Http {
        connector: HttpsConnector<HttpConnector>,
        /// `scheme://host:port/`, what the connector opens.
        origin: hyper::Uri,
        /// The whole URL, as the signature covers it.
        url: String,
        /// The request target in origin form (`/`, `/execute/name`).
        path: String,
        /// Host and content headers, for signing.
        headers: http::HeaderMap,
        /// The whole unsigned request.
        raw: Vec<u8>,
        api: Api,
        body: Vec<u8>,
        signer: Option<Signer>,
        timeout: Duration,
    }

    impl Http {
        /// A target for `endpoint` (`http://host:port` or `https://host`), sending `input` each
        /// time; a request unanswered after `timeout` counts as `NO_ANSWER`. https trusts the
        /// system's roots.
        #[cfg(test)]
        pub fn new(
            endpoint: &str,
            api: Api,
            input: &str,
            signer: Option<Signer>,
            timeout: Duration,
        ) -> Result<Http, String> {
            Http::with_tls(endpoint, api, input, signer, timeout, None)
        }

        /// As [`Http::new`], https also trusting the certificates of `ca_pem` (PEM text).
        pub fn with_tls(
            endpoint: &str,
            api: Api,
            input: &str,
            signer: Option<Signer>,
            timeout: Duration,
            ca_pem: Option<&[u8]>,
        ) -> Result<Http, String> {
            let endpoint = endpoint.trim_end_matches('/');
            let https = endpoint.starts_with("https://");
            if !https && !endpoint.starts_with("http://") {
                return Err(format!(
                    "endpoint '{endpoint}' must be an http:// or https:// URL"
                ));
            }
            let (path, body) = match &api {
                Api::StartSync { state_machine_arn } => (
                    "/".to_string(),
                    serde_json::json!({"stateMachineArn": state_machine_arn, "input": input})
                        .to_string(),
                ),
                Api::Execute { name } => (format!("/execute/{name}"), input.to_string()),
            };
            let url = format!("{endpoint}{path}");
            let uri: hyper::Uri = url
                .parse()
                .map_err(|e| format!("endpoint '{endpoint}' is not a valid URL: {e}"))?;
            let authority = uri
                .authority()
                .ok_or_else(|| format!("endpoint '{endpoint}' has no host"))?
                .clone();
            if uri.path() != path || uri.query().is_some() {
                return Err(format!(
                    "endpoint '{endpoint}' must be scheme://host[:port] alone (no path)"
                ));
            }
            let origin = hyper::Uri::builder()
                .scheme(if https { "https" } else { "http" })
                .authority(authority.clone())
                .path_and_query("/")
                .build()
                .map_err(|e| format!("endpoint '{endpoint}': {e}"))?;
            let value = |v: &str| {
                hyper::header::HeaderValue::from_str(v)
                    .map_err(|e| format!("'{v}' cannot be a header: {e}"))
            };
            let mut headers = http::HeaderMap::new();
            headers.insert(hyper::header::HOST, value(authority.as_str())?);
            match &api {
                Api::StartSync { .. } => {
                    headers.insert(
                        hyper::header::CONTENT_TYPE,
                        value("application/x-amz-json-1.0")?,
                    );
                    headers.insert(
                        "x-amz-target",
                        value("AWSStepFunctions.StartSyncExecution")?,
                    );
                }
                Api::Execute { .. } => {
                    headers.insert(hyper::header::CONTENT_TYPE, value("application/json")?);
                }
            }
            // Only https needs the roots (and reads the system's).
            let tls = if https {
                tls_config(ca_pem)?
            } else {
                tls_config_without_roots()?
            };
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_nodelay(true);
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http);
            let mut raw = Vec::new();
            write_request(&mut raw, &path, &headers, body.as_bytes());
            Ok(Http {
                connector,
                origin,
                url,
                path,
                headers,
                raw,
                api,
                body: body.into_bytes(),
                signer,
                timeout,
            })
        }

        /// The request to send: the one made at the start, or with credentials a freshly signed
        /// one written into `scratch`.
        fn request<'a>(&'a self, scratch: &'a mut Vec<u8>) -> Result<&'a [u8], String> {
            let Some(signer) = &self.signer else {
                return Ok(&self.raw);
            };
            let mut req = http::Request::new(());
            *req.headers_mut() = self.headers.clone();
            signer.sign(&mut req, &self.url, &self.body)?;
            scratch.clear();
            write_request(scratch, &self.path, req.headers(), &self.body);
            Ok(scratch)
        }
    }

    /// `POST path HTTP/1.1`, the headers, `content-length`, and the body.
    fn write_request(out: &mut Vec<u8>, path: &str, headers: &http::HeaderMap, body: &[u8]) {
        out.extend_from_slice(b"POST ");
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(itoa::Buffer::new().format(body.len()).as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
    }

    /// A client configuration for plain http, where no certificate is ever checked.
    fn tls_config_without_roots() -> Result<rustls::ClientConfig, String> {
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth())
    }

    impl Target for Http {
        type Worker = HttpWorker;
        fn worker(self: &Arc<Self>) -> HttpWorker {
            HttpWorker {
                target: self.clone(),
                connector: self.connector.clone(),
                conn: None,
                buf: Vec::with_capacity(READ_CHUNK),
                scratch: Vec::new(),
            }
        }
    }

    /// Bytes asked of the socket at least per read.
    const READ_CHUNK: usize = 16 * 1024;

    /// One keep-alive connection, opened on first use and again after it ended or failed, and
    /// the buffer its answers are read into.
    pub struct HttpWorker {
        target: Arc<Http>,
        connector: HttpsConnector<HttpConnector>,
        conn: Option<Stream>,
        buf: Vec<u8>,
        /// A signed request's bytes.
        scratch: Vec<u8>,
    }

    enum Stream {
        Plain(tokio::net::TcpStream),
        Tls(Box<TokioIo<MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>>>),
    }

    impl Stream {
        async fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
            match self {
                Stream::Plain(s) => s.write_all(bytes).await,
                Stream::Tls(s) => {
                    s.write_all(bytes).await?;
                    s.flush().await
                }
            }
        }

        async fn read_buf(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
            if buf.capacity() - buf.len() < READ_CHUNK / 2 {
                buf.reserve(READ_CHUNK);
            }
            match self {
                Stream::Plain(s) => s.read_buf(buf).await,
                Stream::Tls(s) => s.read_buf(buf).await,
            }
        }

        /// Whether the socket has something to read although no request is out: the server
        /// closed an idle connection (or sent what nobody asked for). Costs no system call: tokio
        /// clears a socket's readiness when a read drains it, as the last answer's read did.
        fn stale(&mut self, cx: &mut std::task::Context<'_>) -> bool {
            match self {
                Stream::Plain(s) => s.poll_read_ready(cx).is_ready(),
                // rustls may hold bytes of its own: nothing cheap to ask; a closed one fails
                // the round trip instead.
                Stream::Tls(_) => false,
            }
        }
    }

    enum Failure {
        Connect,
        Tls,
        Transport,
        TooLarge,
        Malformed,
    }

    /// Where an answer's body is.
    enum Body {
        /// `buf[start..end]`, as it came.
        In(usize, usize),
        /// A chunked body, joined.
        Joined(Vec<u8>),
    }

    /// Whether a connect error came from the TLS handshake (an untrusted certificate, a name that
    /// does not match) rather than from TCP.
    fn is_tls(e: &(dyn std::error::Error + 'static)) -> bool {
        if e.is::<rustls::Error>() {
            return true;
        }
        // An io::Error's `source` skips the error it wraps: look inside it too.
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls(inner)
        {
            return true;
        }
        e.source().is_some_and(is_tls)
    }

    /// The head of one answer, parsed.
    struct Head {
        code: u16,
        /// Bytes of the head in the buffer.
        len: usize,
        length: Option<usize>,
        chunked: bool,
        close: bool,
    }

    /// `Ok(None)` while the head is incomplete.
    fn parse_head(buf: &[u8]) -> Result<Option<Head>, Failure> {
        let mut headers = [httparse::EMPTY_HEADER; 48];
        let mut resp = httparse::Response::new(&mut headers);
        let len = match resp.parse(buf) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(Failure::Malformed),
        };
        let code = resp.code.ok_or(Failure::Malformed)?;
        // HTTP/1.0 closes unless it says keep-alive.
        let (mut length, mut chunked, mut close) = (None, false, resp.version == Some(0));
        for h in resp.headers.iter() {
            let has = |word: &str| {
                h.value
                    .split(|b| *b == b',')
                    .any(|v| v.trim_ascii().eq_ignore_ascii_case(word.as_bytes()))
            };
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .ok_or(Failure::Malformed)?;
                if length.is_some_and(|l| l != n) {
                    return Err(Failure::Malformed);
                }
                length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = has("chunked");
            } else if h.name.eq_ignore_ascii_case("connection") {
                if has("close") {
                    close = true;
                } else if has("keep-alive") {
                    close = false;
                }
            }
        }
        Ok(Some(Head {
            code,
            len,
            length,
            chunked,
            close,
        }))
    }

    /// A chunked body at the start of `buf`: `Ok(Some((bytes it took, the data)))` once whole.
    fn dechunk(buf: &[u8]) -> Result<Option<(usize, Vec<u8>)>, Failure> {
        let (mut pos, mut data) = (0usize, Vec::new());
        loop {
            let Some(eol) = memchr::memmem::find(&buf[pos..], b"\r\n") else {
                return Ok(None);
            };
            let line = &buf[pos..pos + eol];
            let size = line.split(|b| *b == b';').next().unwrap_or_default();
            let size = std::str::from_utf8(size)
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                .ok_or(Failure::Malformed)?;
            if size > MAX_ANSWER || data.len() + size > MAX_ANSWER {
                return Err(Failure::TooLarge);
            }
            pos += eol + 2;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    let Some(eol) = memchr::memmem::find(&buf[pos..], b"\r\n") else {
                        return Ok(None);
                    };
                    pos += eol + 2;
                    if eol == 0 {
                        return Ok(Some((pos, data)));
                    }
                }
            }
            if buf.len() < pos + size + 2 {
                return Ok(None);
            }
            data.extend_from_slice(&buf[pos..pos + size]);
            if &buf[pos + size..pos + size + 2] != b"\r\n" {
                return Err(Failure::Malformed);
            }
            pos += size + 2;
        }
    }

    impl HttpWorker {
        async fn connect(&mut self) -> Result<Stream, Failure> {
            std::future::poll_fn(|cx| self.connector.poll_ready(cx))
                .await
                .map_err(|_| Failure::Connect)?;
            let stream = self
                .connector
                .call(self.target.origin.clone())
                .await
                .map_err(|e| {
                    if is_tls(e.as_ref()) {
                        Failure::Tls
                    } else {
                        Failure::Connect
                    }
                })?;
            Ok(match stream {
                MaybeHttpsStream::Http(tcp) => Stream::Plain(tcp.into_inner()),
                tls => Stream::Tls(Box::new(TokioIo::new(tls))),
            })
        }

        /// One request on this worker's connection: the answer's status code and where its body
        /// is. The connection is dropped when the answer says so or anything fails.
        async fn exchange(&mut self) -> Result<(u16, Body), Failure> {
            // The last answer goes; anything after it in the buffer was not asked for.
            self.buf.clear();
            if let Some(c) = self.conn.as_mut()
                && std::future::poll_fn(|cx| std::task::Poll::Ready(c.stale(cx))).await
            {
                self.conn = None;
            }
            if self.conn.is_none() {
                self.conn = Some(self.connect().await?);
            }
            let result = self.round_trip().await;
            if !matches!(result, Ok((_, false, _))) {
                self.conn = None;
            }
            result.map(|(code, _, body)| (code, body))
        }

        /// (status code, whether the connection ends, body).
        async fn round_trip(&mut self) -> Result<(u16, bool, Body), Failure> {
            let Some(conn) = self.conn.as_mut() else {
                return Err(Failure::Connect);
            };
            let req = self
                .target
                .request(&mut self.scratch)
                .map_err(|_| Failure::Transport)?;
            conn.write_all(req).await.map_err(|_| Failure::Transport)?;
            let buf = &mut self.buf;
            let head = loop {
                if let Some(head) = parse_head(buf)? {
                    // 1xx answers (100 Continue) come before the real one.
                    if (100..200).contains(&head.code) && head.code != 101 {
                        buf.drain(..head.len);
                        continue;
                    }
                    break head;
                }
                if buf.len() > 64 * 1024 {
                    return Err(Failure::Malformed);
                }
                if conn.read_buf(buf).await.map_err(|_| Failure::Transport)? == 0 {
                    return Err(Failure::Transport);
                }
            };
            let start = head.len;
            if head.code == 204 || head.code == 304 {
                return Ok((head.code, head.close, Body::In(start, start)));
            }
            if head.chunked {
                loop {
                    if let Some((_, data)) = dechunk(&buf[start..])? {
                        return Ok((head.code, head.close, Body::Joined(data)));
                    }
                    if conn.read_buf(buf).await.map_err(|_| Failure::Transport)? == 0 {
                        return Err(Failure::Transport);
                    }
                }
            }
            match head.length {
                Some(n) if n > MAX_ANSWER => Err(Failure::TooLarge),
                Some(n) => {
                    buf.reserve((start + n).saturating_sub(buf.len()));
                    while buf.len() < start + n {
                        if conn.read_buf(buf).await.map_err(|_| Failure::Transport)? == 0 {
                            return Err(Failure::Transport);
                        }
                    }
                    Ok((head.code, head.close, Body::In(start, start + n)))
                }
                // No length: the body runs to the end of the connection.
                None => {
                    while conn.read_buf(buf).await.map_err(|_| Failure::Transport)? > 0 {
                        if buf.len() - start > MAX_ANSWER {
                            return Err(Failure::TooLarge);
                        }
                    }
                    Ok((head.code, true, Body::In(start, buf.len())))
                }
            }
        }
    }

    impl Worker for HttpWorker {
        async fn call(&mut self, want_output: bool) -> Answer {
            let answer = match tokio::time::timeout(self.target.timeout, self.exchange()).await {
                Ok(Ok((code, body))) => {
                    let body = match &body {
                        Body::In(start, end) => &self.buf[*start..*end],
                        Body::Joined(data) => data.as_slice(),
                    };
                    match self.target.api {
                        Api::StartSync { .. } => start_sync_answer(code, body, want_output),
                        Api::Execute { .. } => execute_answer(code, body, want_output),
                    }
                }
                Ok(Err(Failure::Connect)) => no_answer("ConnectError"),
                Ok(Err(Failure::Tls)) => no_answer("TlsError"),
                Ok(Err(Failure::Transport)) => no_answer("TransportError"),
                Ok(Err(Failure::TooLarge)) => no_answer("AnswerTooLarge"),
                Ok(Err(Failure::Malformed)) => no_answer("MalformedAnswer"),
                Err(_) => no_answer("RequestTimeout"),
            };
            if answer.status == "NO_ANSWER" {
                // Whatever state the connection is in, the next request starts on a new one.
                self.conn = None;
            }
            answer
        }
    }

    fn no_answer(error: &str) -> Answer {
        Answer {
            status: Cow::Borrowed("NO_ANSWER"),
            error: Some(error.to_string()),
            output: None,
        }
    }

    /// An API error's name: `__type` (after any `namespace#`) or the `/execute` route's `error`.
    fn api_error(code: u16, body: &[u8]) -> Answer {
        #[derive(serde::Deserialize)]
        struct Err {
            #[serde(rename = "__type")]
            kind: Option<String>,
            error: Option<String>,
        }
        let name = serde_json::from_slice::<Err>(body)
            .ok()
            .and_then(|e| e.kind.or(e.error))
            .map(|t| t.rsplit('#').next().unwrap_or(&t).to_string())
            .unwrap_or_else(|| format!("HTTP{code}"));
        Answer {
            status: Cow::Owned(format!("HTTP {code}")),
            error: Some(name),
            output: None,
        }
    }

    /// The value of a top-level `"status"` member when it is a plain string, without parsing
    /// the rest. Sound for StartSyncExecution's flat answer: inside a JSON string every `"` is
    /// escaped, so a `"status"` followed by `:` is a member name, never text of a value.
    fn quick_status(body: &[u8]) -> Option<&[u8]> {
        let key = memchr::memmem::find(body, b"\"status\"")?;
        let rest = &body[key + 8..];
        let rest = rest.trim_ascii_start().strip_prefix(b":")?;
        let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
        let end = memchr::memchr2(b'"', b'\\', rest)?;
        (rest[end] == b'"').then_some(&rest[..end])
    }

    /// StartSyncExecution's answer: 200 with `status`, `output`, `error`; else an API error.
    /// A SUCCEEDED answer whose output is not wanted is read no further than its status.
    pub fn start_sync_answer(code: u16, body: &[u8], want_output: bool) -> Answer {
        #[derive(serde::Deserialize)]
        struct Sync {
            status: String,
            output: Option<String>,
            error: Option<String>,
        }
        if code != 200 {
            return api_error(code, body);
        }
        if !want_output && quick_status(body) == Some(SUCCEEDED.as_bytes()) {
            return Answer {
                status: Cow::Borrowed(SUCCEEDED),
                error: None,
                output: None,
            };
        }
        match serde_json::from_slice::<Sync>(body) {
            Ok(s) => Answer {
                status: match s.status.as_str() {
                    "SUCCEEDED" => Cow::Borrowed(SUCCEEDED),
                    "FAILED" => Cow::Borrowed("FAILED"),
                    "TIMED_OUT" => Cow::Borrowed("TIMED_OUT"),
                    _ => Cow::Owned(s.status),
                },
                error: s.error,
                output: s.output,
            },
            Err(_) => Answer {
                status: Cow::Borrowed("HTTP 200"),
                error: Some("UnreadableAnswer".into()),
                output: None,
            },
        }
    }

    /// `/execute/{name}`: 200 with the output, 500 FAILED, 504 TIMED_OUT, else an API error.
    pub fn execute_answer(code: u16, body: &[u8], want_output: bool) -> Answer {
        let error = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
        };
        match code {
            200 => Answer {
                status: Cow::Borrowed(SUCCEEDED),
                error: None,
                output: want_output.then(|| String::from_utf8_lossy(body).into_owned()),
            },
            500 => Answer {
                status: Cow::Borrowed("FAILED"),
                error: error(body),
                output: None,
            },
            504 => Answer {
                status: Cow::Borrowed("TIMED_OUT"),
                error: error(body),
                output: None,
            },
            _ => api_error(code, body),
        }
    }
}
