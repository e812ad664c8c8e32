//! The AWS request layer: every Task that calls a real (or emulated) AWS service goes through one
//! [`AwsClient`], shared by all executions.
//!
//! In: a service, a method, a path and a body from an integration (`services.rs`, `sdk.rs` and
//! `query.rs` for `aws-sdk:*`, the Lambda backend in `http.rs`), or an unsigned request from the
//! HTTP Task (`http_invoke.rs`). Out: the service's HTTP answer ([`AwsResponse`]) or a [`ClientError`]
//! when no answer came (unreachable, reset, timed out), which integrations turn into the errors AWS
//! names (`SNS.NotFoundException`, `Lambda.SdkClientException`, ...).
//!
//! What happens here: the endpoint is chosen ([`AwsSettings::endpoint`]), the request is signed
//! with SigV4 by the `aws-sigv4` crate with credentials from the standard chain (`aws-config`),
//! cached and refreshed five minutes before they expire, and sent on one pooled hyper client
//! (keep-alive; https through rustls on the `ring` provider, plain http for local emulators).
//! Never here: retries (ASL `Retry` does them, so a failed call fails once), and building a client
//! per call.

mod creds;
mod endpoints;
mod query;
pub mod s3;
mod sdk;
mod services;

#[cfg(feature = "cli")]
mod args;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub use creds::CredentialSource;
pub use endpoints::{AwsSettings, OtherService, Service};
pub use sdk::served_services;
pub use services::{register_services, start_execution_over_http};

#[cfg(feature = "cli")]
pub use args::ServiceArgs;

/// Largest response body read: Lambda's 6 MB synchronous payload limit plus headroom.
const MAX_BODY: usize = 7 * 1024 * 1024;

type Connector = hyper_rustls::HttpsConnector<CountingConnector>;

/// One request to a service, before signing.
#[derive(Clone, Debug)]
pub struct AwsRequest {
    /// The service: picks the endpoint and the signing name.
    pub service: Service,
    /// `POST`, `GET`, ...
    pub method: hyper::Method,
    /// Path and query, starting with `/`, already percent-encoded.
    pub path: String,
    /// Extra headers (`content-type`, `x-amz-target`, ...), lower-case names.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Bytes,
}

/// A service's HTTP answer, whatever its status.
#[derive(Clone, Debug)]
pub struct AwsResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers in the order they came, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl AwsResponse {
    /// A header's value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request id AWS returns (`x-amzn-RequestId`, or S3's `x-amz-request-id`).
    pub fn request_id(&self) -> String {
        self.header("x-amzn-requestid")
            .or_else(|| self.header("x-amz-request-id"))
            .unwrap_or_default()
            .to_string()
    }
}

/// No answer from the service: the text after the AWS SDK's "Unable to execute HTTP request: ".
#[derive(Clone, Debug, PartialEq)]
pub struct ClientError(pub String);

impl ClientError {
    /// As the AWS SDK for Java words a call that got no answer (Step Functions shows this text).
    pub fn cause(&self) -> String {
        format!("Unable to execute HTTP request: {}", self.0)
    }
}

/// The shared request layer: one connection pool, one credential cache, the endpoints.
/// Cheap to share as `Arc<AwsClient>`; every integration and execution uses the same one.
pub struct AwsClient {
    settings: AwsSettings,
    creds: CredentialSource,
    client: Client<Connector, Full<Bytes>>,
    /// TCP connections opened so far (a pool that works keeps this near the concurrency).
    connections: Arc<AtomicU64>,
}

impl std::fmt::Debug for AwsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AwsClient {
    /// A client with `settings` and credentials from `creds`. Fails only when the TLS setup fails.
    pub fn new(settings: AwsSettings, creds: CredentialSource) -> Result<AwsClient, String> {
        let connections = Arc::new(AtomicU64::new(0));
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(settings.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let counting = CountingConnector {
            inner: http,
            opened: connections.clone(),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(counting);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(50))
            .build(connector);
        Ok(AwsClient {
            settings,
            creds,
            client,
            connections,
        })
    }

    /// A client for the environment: settings from [`AwsSettings::from_env`], credentials from
    /// the standard chain.
    pub fn from_env() -> Result<AwsClient, String> {
        let settings = AwsSettings::from_env();
        let creds = CredentialSource::default_chain(&settings.region);
        AwsClient::new(settings, creds)
    }

    /// The settings in use.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// TCP connections opened since the client was built.
    pub fn connections_opened(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Signs and sends `req`; the answer whatever its status, or why none came. Bounded by the
    /// call timeout (the whole call) and the read timeout (the body, once the head has come).
    pub async fn call(&self, req: AwsRequest) -> Result<AwsResponse, ClientError> {
        let deadline = self.settings.call_timeout;
        match tokio::time::timeout(deadline, self.send(req)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError(format!(
                "Request did not complete within {} ms",
                deadline.as_millis()
            ))),
        }
    }

    /// [`call`](Self::call) at `endpoint` instead of the service's own (S3's virtual-hosted
    /// `https://<bucket>.s3.<region>.amazonaws.com`).
    pub async fn call_at(
        &self,
        endpoint: &str,
        req: AwsRequest,
    ) -> Result<AwsResponse, ClientError> {
        let deadline = self.settings.call_timeout;
        match tokio::time::timeout(deadline, self.send_to(Some(endpoint), req)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError(format!(
                "Request did not complete within {} ms",
                deadline.as_millis()
            ))),
        }
    }

    async fn send(&self, req: AwsRequest) -> Result<AwsResponse, ClientError> {
        self.send_to(None, req).await
    }

    async fn send_to(&self, at: Option<&str>, req: AwsRequest) -> Result<AwsResponse, ClientError> {
        let endpoint = match at {
            Some(e) => e.to_string(),
            None => self.settings.endpoint(req.service),
        };
        let url = format!("{}{}", endpoint.trim_end_matches('/'), req.path);
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| ClientError(format!("invalid endpoint URL '{url}': {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or_else(|| ClientError(format!("the endpoint URL '{url}' names no host")))?;
        let credentials = self.creds.get().await.map_err(ClientError)?;
        let mut builder = hyper::Request::builder()
            .method(req.method.clone())
            .uri(uri)
            .header("host", &host);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v.as_str());
        }
        let mut request = builder
            .body(Full::new(req.body.clone()))
            .map_err(|e| ClientError(e.to_string()))?;
        sign(
            &mut request,
            &url,
            &req,
            &credentials,
            &self.settings.region,
        )
        .map_err(ClientError)?;
        let mut resp = self.exchange(request).await?;
        for (name, _) in &mut resp.headers {
            *name = header_case(name);
        }
        Ok(resp)
    }

    /// Sends `request` as it is (no SigV4) on the shared pool, within the call timeout: the HTTP
    /// Task's calls to APIs outside AWS. Header names come back lower-case, as HTTP/2 and
    /// hyper give them.
    pub async fn call_unsigned(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<AwsResponse, ClientError> {
        let deadline = self.settings.call_timeout;
        match tokio::time::timeout(deadline, self.exchange(request)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError(format!(
                "Request did not complete within {} ms",
                deadline.as_millis()
            ))),
        }
    }

    /// One request and its whole answer (headers with hyper's lower-case names), the body
    /// bounded by [`MAX_BODY`] and the read timeout.
    async fn exchange(
        &self,
        request: hyper::Request<Full<Bytes>>,
    ) -> Result<AwsResponse, ClientError> {
        let resp = self
            .client
            .request(request)
            .await
            .map_err(|e| ClientError(describe(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let read = Limited::new(resp.into_body(), MAX_BODY).collect();
        let body = match tokio::time::timeout(self.settings.read_timeout, read).await {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e)) => return Err(ClientError(format!("reading the response failed: {e}"))),
            Err(_) => return Err(ClientError("Read timed out".into())),
        };
        Ok(AwsResponse {
            status,
            headers,
            body,
        })
    }
}

/// Adds SigV4's headers to `request` (the `aws-sigv4` crate computes them).
fn sign(
    request: &mut hyper::Request<Full<Bytes>>,
    url: &str,
    req: &AwsRequest,
    credentials: &aws_credential_types::Credentials,
    region: &str,
) -> Result<(), String> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    if req.service == Service::S3 {
        // S3 signs the path as sent (no second encoding, no normalization) and wants the
        // payload's hash in `x-amz-content-sha256`.
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(req.service.signing_name())
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let headers = request
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new(
        req.method.as_str(),
        url,
        headers,
        SignableBody::Bytes(&req.body),
    )
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

/// rustls on the `ring` provider with the system's root certificates.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    // Missing or unreadable system certificates leave https unusable, not http: an emulator on
    // plain http still works, and an https call fails with the TLS error.
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    // rustls 0.23.48 deprecates the ring provider for lacking post-quantum key exchange; ring is
    // kept because aws-lc-rs, the alternative, needs a C toolchain build that costs minutes.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The innermost cause of a hyper client error ("Connection refused", "connection reset"), as
/// the SDK's message shows the socket's own words.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        format!("Connect to the endpoint failed: {last}")
    } else {
        last
    }
}

/// `x-amzn-requestid` → `x-amzn-RequestId`: hyper lower-cases names; Step Functions shows the
/// service's spelling in `SdkHttpMetadata`.
fn header_case(name: &str) -> String {
    match name {
        "x-amzn-requestid" => "x-amzn-RequestId".into(),
        "x-amz-crc32" | "connection" => name.into(),
        _ => name
            .split('-')
            .map(|part| {
                let mut c = part.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// `HttpConnector` that counts the connections it opens, so tests and benches can show the pool
/// reuses them.
#[derive(Clone)]
struct CountingConnector {
    inner: HttpConnector,
    opened: Arc<AtomicU64>,
}

impl tower_service::Service<hyper::Uri> for CountingConnector {
    type Response = <HttpConnector as tower_service::Service<hyper::Uri>>::Response;
    type Error = <HttpConnector as tower_service::Service<hyper::Uri>>::Error;
    type Future = <HttpConnector as tower_service::Service<hyper::Uri>>::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: hyper::Uri) -> Self::Future {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.call(uri)
    }
}
