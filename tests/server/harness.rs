//! The test server and a raw HTTP/1.1 client for `tests/server.rs`.

use super::*;

pub struct Srv {
    pub addr: String,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Srv {
    pub async fn start() -> Srv {
        Srv::with(Config::default()).await
    }

    pub async fn with(config: Config) -> Srv {
        Srv::with_log(config, ExecLog::new(Box::new(std::io::sink()))).await
    }

    /// A server whose execution logs go to `log`.
    pub async fn with_log(config: Config, log: ExecLog) -> Srv {
        Srv::with_engine(Engine::new(Settings::default()), config, log).await
    }

    /// A server running `engine` (handlers or mocks registered beforehand).
    pub async fn with_engine(engine: Engine, config: Config, log: ExecLog) -> Srv {
        let server = Server::new(engine, config).with_log(log);
        Srv::serving(Arc::new(server)).await
    }

    /// Serves `server` as built by the test (its own backend, credentials...).
    pub async fn serving(server: Arc<Server>) -> Srv {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(serve(listener, server, async {
            let _ = rx.await;
        }));
        Srv {
            addr,
            stop: Some(tx),
            done,
        }
    }

    pub async fn shutdown(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let finished =
            tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.done).await;
        assert!(finished.is_ok(), "serve did not stop");
    }

    /// Sends raw bytes and returns (status, headers text, body).
    pub async fn raw(&self, request: &[u8]) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut buf = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, head.to_lowercase(), body.to_string())
    }

    pub async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (u16, String, String) {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: sync-localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.raw(req.as_bytes()).await
    }

    /// One AWS JSON 1.0 call: (status, parsed body).
    pub async fn call(&self, op: &str, body: Value) -> (u16, Value) {
        self.call_text(op, &body.to_string()).await
    }

    pub async fn call_text(&self, op: &str, body: &str) -> (u16, Value) {
        let headers = format!(
            "X-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\n"
        );
        let (status, head, body) = self.http("POST", "/", &headers, body).await;
        assert!(head.contains("x-amzn-requestid"), "no request id: {head}");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    pub async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, out) = self.call(op, body).await;
        assert_eq!(status, 200, "{op}: {out}");
        out
    }

    /// Asserts an error answer: HTTP 400 and the error name after `#` in `__type`.
    pub async fn err(&self, op: &str, body: Value, kind: &str) -> String {
        let (status, out) = self.call(op, body).await;
        assert_eq!(status, 400, "{op}: {out}");
        let t = out["__type"].as_str().unwrap_or_default();
        assert_eq!(t.rsplit('#').next(), Some(kind), "{op}: {out}");
        out["message"].as_str().unwrap_or_default().to_string()
    }

    pub async fn create(&self, name: &str, def: &str, kind: &str) -> String {
        let out = self
            .ok(
                "CreateStateMachine",
                json!({"name": name, "definition": def, "roleArn": ROLE, "type": kind}),
            )
            .await;
        out["stateMachineArn"].as_str().unwrap().to_string()
    }
}
