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
    async fn call(&mut self) -> Answer {
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

#[cfg(feature = "http-client")]
mod remote {
    use super::*;
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, Limited};
    use hyper::client::conn::http1::{Connection, SendRequest};
    use hyper_util::rt::TokioIo;
    use std::pin::Pin;
    use std::time::{Duration, SystemTime};

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

        fn sign(&self, req: &mut hyper::Request<Full<Bytes>>, body: &[u8]) -> Result<(), String> {
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
            let uri = req.uri().to_string();
            let signable = SignableRequest::new("POST", uri, headers, SignableBody::Bytes(body))
                .map_err(|e| e.to_string())?;
            let (instructions, _) = sign(signable, &params)
                .map_err(|e| e.to_string())?
                .into_parts();
            instructions.apply_to_request_http1x(req);
            Ok(())
        }
    }

    /// Requests to one endpoint, each worker over a keep-alive connection of its own.
    pub struct Http {
        /// `host:port` to connect to.
        addr: String,
        uri: hyper::Uri,
        host: String,
        api: Api,
        body: Bytes,
        signer: Option<Signer>,
        timeout: Duration,
    }

    impl Http {
        /// A target for `endpoint` (`http://host:port`), sending `input` each time; a request
        /// unanswered after `timeout` counts as `NO_ANSWER`.
        pub fn new(
            endpoint: &str,
            api: Api,
            input: &str,
            signer: Option<Signer>,
            timeout: Duration,
        ) -> Result<Http, String> {
            let endpoint = endpoint.trim_end_matches('/');
            if !endpoint.starts_with("http://") {
                return Err(format!(
                    "endpoint '{endpoint}' must be an http:// URL (no TLS is built in)"
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
            let uri: hyper::Uri = format!("{endpoint}{path}")
                .parse()
                .map_err(|e| format!("endpoint '{endpoint}' is not a valid URL: {e}"))?;
            let authority = uri
                .authority()
                .ok_or_else(|| format!("endpoint '{endpoint}' has no host"))?;
            let addr = format!(
                "{}:{}",
                authority.host(),
                authority.port_u16().unwrap_or(80)
            );
            Ok(Http {
                addr,
                host: authority.to_string(),
                uri,
                api,
                body: Bytes::from(body),
                signer,
                timeout,
            })
        }

        fn request(&self) -> Result<hyper::Request<Full<Bytes>>, String> {
            let mut b = hyper::Request::post(self.uri.clone()).header("host", &self.host);
            b = match self.api {
                Api::StartSync { .. } => b
                    .header("content-type", "application/x-amz-json-1.0")
                    .header("x-amz-target", "AWSStepFunctions.StartSyncExecution"),
                Api::Execute { .. } => b.header("content-type", "application/json"),
            };
            let mut req = b
                .body(Full::new(self.body.clone()))
                .map_err(|e| e.to_string())?;
            if let Some(s) = &self.signer {
                s.sign(&mut req, &self.body)?;
            }
            Ok(req)
        }
    }

    impl Target for Http {
        type Worker = HttpWorker;
        fn worker(self: &Arc<Self>) -> HttpWorker {
            HttpWorker {
                target: self.clone(),
                conn: None,
            }
        }
    }

    /// One connection, opened on first use and again after it fails. Its driver is polled inside
    /// the worker's own task while a request is out: no pool, no channel hop to another task.
    pub struct HttpWorker {
        target: Arc<Http>,
        conn: Option<Conn>,
    }

    struct Conn {
        send: SendRequest<Full<Bytes>>,
        driver: Pin<Box<Connection<TokioIo<tokio::net::TcpStream>, Full<Bytes>>>>,
    }

    enum Failure {
        Connect,
        Transport,
    }

    impl HttpWorker {
        async fn connect(&self) -> Result<Conn, Failure> {
            let stream = tokio::net::TcpStream::connect(&self.target.addr)
                .await
                .map_err(|_| Failure::Connect)?;
            let _ = stream.set_nodelay(true);
            let (send, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
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
                    let body = Limited::new(resp.into_body(), MAX_ANSWER)
                        .collect()
                        .await
                        .map_err(|_| Failure::Transport)?;
                    Ok((code, body.to_bytes()))
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

    impl Worker for HttpWorker {
        async fn call(&mut self) -> Answer {
            let answer = match tokio::time::timeout(self.target.timeout, self.exchange()).await {
                Ok(Ok((code, body))) => match self.target.api {
                    Api::StartSync { .. } => start_sync_answer(code, &body),
                    Api::Execute { .. } => execute_answer(code, body),
                },
                Ok(Err(Failure::Connect)) => no_answer("ConnectError"),
                Ok(Err(Failure::Transport)) => no_answer("TransportError"),
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

    /// StartSyncExecution's answer: 200 with `status`, `output`, `error`; else an API error.
    pub fn start_sync_answer(code: u16, body: &[u8]) -> Answer {
        #[derive(serde::Deserialize)]
        struct Sync {
            status: String,
            output: Option<String>,
            error: Option<String>,
        }
        if code != 200 {
            return api_error(code, body);
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
    pub fn execute_answer(code: u16, body: Bytes) -> Answer {
        let error = |body: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["error"].as_str().map(str::to_string))
        };
        match code {
            200 => Answer {
                status: Cow::Borrowed(SUCCEEDED),
                error: None,
                output: Some(String::from_utf8_lossy(&body).into_owned()),
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
