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
    use bytes::{Bytes, BytesMut};
    use http_body_util::{BodyExt, Full};
    use hyper::client::conn::http1::{Connection, SendRequest};
    use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioIo;
    use std::pin::Pin;
    use std::time::{Duration, SystemTime};
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

        /// Signs `req` (its URI in origin form) as a request to `url`.
        fn sign(
            &self,
            req: &mut hyper::Request<Full<Bytes>>,
            url: &str,
            body: &[u8],
        ) -> Result<(), String> {
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
    /// PERF: the request is made once here (origin-form URI, headers, body) and each call clones
    /// it (the body and header values are shared `Bytes`); only with credentials is each one
    /// signed again (SigV4 puts the time in the signature).
    pub struct Http {
        connector: HttpsConnector<HttpConnector>,
        /// `scheme://host:port/`, what the connector opens.
        origin: hyper::Uri,
        /// The whole URL, as the signature covers it.
        url: String,
        /// The request target in origin form (`/`, `/execute/name`).
        path: hyper::Uri,
        headers: hyper::HeaderMap,
        api: Api,
        body: Bytes,
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
            let path: hyper::Uri = path
                .parse()
                .map_err(|e| format!("'{path}' is not a valid path: {e}"))?;
            let value = |v: &str| {
                hyper::header::HeaderValue::from_str(v)
                    .map_err(|e| format!("'{v}' cannot be a header: {e}"))
            };
            let mut headers = hyper::HeaderMap::new();
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
            Ok(Http {
                connector,
                origin,
                url,
                path,
                headers,
                api,
                body: Bytes::from(body),
                signer,
                timeout,
            })
        }

        fn request(&self) -> Result<hyper::Request<Full<Bytes>>, String> {
            let mut req = hyper::Request::new(Full::new(self.body.clone()));
            *req.method_mut() = hyper::Method::POST;
            *req.uri_mut() = self.path.clone();
            *req.headers_mut() = self.headers.clone();
            if let Some(s) = &self.signer {
                s.sign(&mut req, &self.url, &self.body)?;
            }
            Ok(req)
        }
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
            }
        }
    }

    /// One connection, opened on first use and again after it fails. Its driver is polled inside
    /// the worker's own future while a request is out: no pool, no channel hop to another task.
    pub struct HttpWorker {
        target: Arc<Http>,
        connector: HttpsConnector<HttpConnector>,
        conn: Option<Conn>,
    }

    type Stream = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

    struct Conn {
        send: SendRequest<Full<Bytes>>,
        driver: Pin<Box<Connection<Stream, Full<Bytes>>>>,
    }

    enum Failure {
        Connect,
        Tls,
        Transport,
        TooLarge,
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

    impl HttpWorker {
        async fn connect(&mut self) -> Result<Conn, Failure> {
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
            let (send, driver) = hyper::client::conn::http1::handshake(stream)
                .await
                .map_err(|_| Failure::Connect)?;
            Ok(Conn {
                send,
                driver: Box::pin(driver),
            })
        }

        /// (status code, body) of one request on this worker's connection.
        async fn exchange(&mut self) -> Result<(u16, Bytes), Failure> {
            let req = self.target.request().map_err(|_| Failure::Transport)?;
            // A kept connection that the server has closed since (`Connection: close`, an idle
            // timeout) is replaced before anything is sent on it.
            if let Some(c) = self.conn.as_mut()
                && (c.send.is_closed() || futures::poll!(c.driver.as_mut()).is_ready())
            {
                self.conn = None;
            }
            if self.conn.is_none() {
                self.conn = Some(self.connect().await?);
            }
            let (result, ended) = {
                let Some(Conn { send, driver }) = self.conn.as_mut() else {
                    return Err(Failure::Connect);
                };
                let round_trip = async {
                    send.ready().await.map_err(|_| Failure::Transport)?;
                    let resp = send
                        .send_request(req)
                        .await
                        .map_err(|_| Failure::Transport)?;
                    let code = resp.status().as_u16();
                    Ok((code, read_body(resp.into_body()).await?))
                };
                tokio::pin!(round_trip);
                let mut ended = false;
                let result = loop {
                    tokio::select! {
                        biased;
                        r = &mut round_trip => break r,
                        // The connection ended (`Connection: close`, or broken): the answer is
                        // complete or the round trip fails, both on its next poll.
                        _ = driver.as_mut(), if !ended => ended = true,
                    }
                };
                (result, ended)
            };
            if ended {
                self.conn = None;
            }
            result
        }
    }

    /// The whole body: a single chunk as it came (no copy), several joined, up to MAX_ANSWER.
    async fn read_body(mut body: hyper::body::Incoming) -> Result<Bytes, Failure> {
        let mut first = Bytes::new();
        let mut joined: Option<BytesMut> = None;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(|_| Failure::Transport)?.into_data() else {
                continue; // trailers
            };
            match &mut joined {
                Some(j) => j.extend_from_slice(&data),
                None if first.is_empty() => first = data,
                None => {
                    let mut j = BytesMut::with_capacity(first.len() + data.len());
                    j.extend_from_slice(&first);
                    j.extend_from_slice(&data);
                    joined = Some(j);
                }
            }
            let len = joined.as_ref().map_or(first.len(), |j| j.len());
            if len > MAX_ANSWER {
                return Err(Failure::TooLarge);
            }
        }
        Ok(joined.map_or(first, BytesMut::freeze))
    }

    impl Worker for HttpWorker {
        async fn call(&mut self, want_output: bool) -> Answer {
            let answer = match tokio::time::timeout(self.target.timeout, self.exchange()).await {
                Ok(Ok((code, body))) => match self.target.api {
                    Api::StartSync { .. } => start_sync_answer(code, &body, want_output),
                    Api::Execute { .. } => execute_answer(code, body, want_output),
                },
                Ok(Err(Failure::Connect)) => no_answer("ConnectError"),
                Ok(Err(Failure::Tls)) => no_answer("TlsError"),
                Ok(Err(Failure::Transport)) => no_answer("TransportError"),
                Ok(Err(Failure::TooLarge)) => no_answer("AnswerTooLarge"),
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
    pub fn execute_answer(code: u16, body: Bytes, want_output: bool) -> Answer {
        let error = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
        };
        match code {
            200 => Answer {
                status: Cow::Borrowed(SUCCEEDED),
                error: None,
                output: want_output.then(|| String::from_utf8_lossy(&body).into_owned()),
            },
            500 => Answer {
                status: Cow::Borrowed("FAILED"),
                error: error(&body),
                output: None,
            },
            504 => Answer {
                status: Cow::Borrowed("TIMED_OUT"),
                error: error(&body),
                output: None,
            },
            _ => api_error(code, &body),
        }
    }
}
