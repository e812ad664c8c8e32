//! The HTTP Task, `arn:<partition>:states:::http:invoke`: one call to an HTTP API outside AWS.
//!
//! In: `ApiEndpoint`, `Method`, `Authentication.ConnectionArn` (or `InvocationConfig.
//! ConnectionArn`), and optionally `Headers`, `QueryParameters`, `RequestBody` and `Transform`
//! (`RequestBodyEncoding: URL_ENCODED` with `RequestEncodingOptions.ArrayFormat` `INDICES`, the
//! default, `REPEAT`, `COMMAS` or `BRACKETS`). Out: `{Headers, ResponseBody, StatusCode,
//! StatusText}`: headers as lists of values under their lower-case names, the body parsed when
//! it is JSON and as text otherwise. A status outside 2xx fails with
//! `States.Http.StatusCode.<code>` whose cause is that same object as JSON text; no answer at
//! all (refused, reset, 60 s without an answer) fails with `States.Http.Socket`.
//!
//! A connection's authorization is local configuration: the file named by
//! `EXPRESSWAY_HTTP_CONNECTIONS` maps each connection ARN to what EventBridge's
//! `CreateConnection` takes (`AuthorizationType` and `AuthParameters`: `API_KEY`, `BASIC` or
//! `OAUTH_CLIENT_CREDENTIALS`, plus `InvocationHttpParameters`, whose header, query and body
//! parameters are added to every call and win over the Task's). A connection with nothing
//! configured sends no credentials, and says so once on stderr.
//!
//! Never here: retries (ASL `Retry` does them) and signing (these are not AWS APIs).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;

use super::aws::AwsClient;
use super::{TaskError, TaskFuture, TaskHandler, TaskRequest};
use crate::percent::percent_encode;
use crate::value::{self, Map, Str, Value};

/// The variable naming the connections file.
pub const CONNECTIONS_ENV: &str = "EXPRESSWAY_HTTP_CONNECTIONS";

/// How long one HTTP Task call may take before it fails with `States.Http.Socket`.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Headers that frame the message: the client sets them, a Task may not.
const FRAMING_HEADERS: [&str; 5] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
];

/// A connection's authorization, as EventBridge's `CreateConnection` describes it.
#[derive(Clone, Debug, PartialEq)]
enum Auth {
    /// A header with a key (`x-api-key: …`, `Authorization: Bearer …`).
    ApiKey { name: String, value: String },
    /// `Authorization: Basic base64(user:password)`.
    Basic { username: String, password: String },
    /// A token from the authorization endpoint for the client's id and secret, sent as
    /// `Authorization: Bearer <token>` until it expires.
    ClientCredentials {
        endpoint: String,
        method: String,
        client_id: String,
        client_secret: String,
        extra: Parameters,
    },
}

/// Header, query and body parameters a connection adds.
#[derive(Clone, Debug, Default, PartialEq)]
struct Parameters {
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Vec<(String, String)>,
}

/// One configured connection.
#[derive(Clone, Debug, PartialEq)]
struct Connection {
    auth: Auth,
    invocation: Parameters,
}

/// Connection ARN → its authorization: the local stand-in for EventBridge connections.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Connections(HashMap<String, Connection>);

impl Connections {
    /// Connections from the JSON text of a connections file; every problem is named with the
    /// ARN it is under.
    pub fn parse(text: &str) -> Result<Connections, String> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let obj = doc
            .as_object()
            .ok_or("expected an object of connection ARN → connection")?;
        let mut out = HashMap::new();
        for (arn, c) in obj {
            let conn = parse_connection(c).map_err(|e| format!("connection '{arn}': {e}"))?;
            out.insert(arn.clone(), conn);
        }
        Ok(Connections(out))
    }

    /// The file `EXPRESSWAY_HTTP_CONNECTIONS` names; none when unset.
    pub fn from_env() -> Result<Connections, String> {
        let Some(path) = std::env::var_os(CONNECTIONS_ENV).filter(|p| !p.is_empty()) else {
            return Ok(Connections::default());
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{CONNECTIONS_ENV}: cannot read {}: {e}",
                std::path::Path::new(&path).display()
            )
        })?;
        Connections::parse(&text).map_err(|e| format!("{CONNECTIONS_ENV}: {e}"))
    }
}

fn text_field(v: &serde_json::Value, key: &str) -> Result<String, String> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("'{key}' must be a string"))
}

fn parse_parameters(v: Option<&serde_json::Value>) -> Result<Parameters, String> {
    let Some(v) = v else {
        return Ok(Parameters::default());
    };
    let list = |key: &str| -> Result<Vec<(String, String)>, String> {
        let Some(items) = v.get(key) else {
            return Ok(Vec::new());
        };
        let items = items
            .as_array()
            .ok_or_else(|| format!("'{key}' must be a list"))?;
        items
            .iter()
            .map(|i| Ok((text_field(i, "Key")?, text_field(i, "Value")?)))
            .collect()
    };
    Ok(Parameters {
        headers: list("HeaderParameters")?,
        query: list("QueryStringParameters")?,
        body: list("BodyParameters")?,
    })
}

fn parse_connection(c: &serde_json::Value) -> Result<Connection, String> {
    let kind = text_field(c, "AuthorizationType")?;
    let params = c
        .get("AuthParameters")
        .ok_or("'AuthParameters' is missing")?;
    let section = |name: &str| params.get(name).ok_or(format!("'{name}' is missing"));
    let auth = match kind.as_str() {
        "API_KEY" => {
            let p = section("ApiKeyAuthParameters")?;
            Auth::ApiKey {
                name: text_field(p, "ApiKeyName")?,
                value: text_field(p, "ApiKeyValue")?,
            }
        }
        "BASIC" => {
            let p = section("BasicAuthParameters")?;
            Auth::Basic {
                username: text_field(p, "Username")?,
                password: text_field(p, "Password")?,
            }
        }
        "OAUTH_CLIENT_CREDENTIALS" => {
            let p = section("OAuthParameters")?;
            let client = p
                .get("ClientParameters")
                .ok_or("'ClientParameters' is missing")?;
            Auth::ClientCredentials {
                endpoint: text_field(p, "AuthorizationEndpoint")?,
                method: text_field(p, "HttpMethod")?,
                client_id: text_field(client, "ClientID")?,
                client_secret: text_field(client, "ClientSecret")?,
                extra: parse_parameters(p.get("OAuthHttpParameters"))?,
            }
        }
        other => {
            return Err(format!(
                "AuthorizationType '{other}' is not API_KEY, BASIC or OAUTH_CLIENT_CREDENTIALS"
            ));
        }
    };
    Ok(Connection {
        auth,
        invocation: parse_parameters(params.get("InvocationHttpParameters"))?,
    })
}

/// Serves `http:invoke` on the shared client.
pub struct HttpInvoke {
    client: Arc<AwsClient>,
    /// The connections, or why the configuration could not be read (every call then fails
    /// with it, rather than calling without the credentials the user meant to send).
    connections: Result<Connections, String>,
    /// OAuth tokens by connection ARN, with when they stop being used. A std mutex: held for
    /// one map access, never across an await.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// Connections already reported as unconfigured (said once, not per call).
    warned: Mutex<HashSet<String>>,
}

impl HttpInvoke {
    /// The handler to register for `http:invoke`, with `connections` (or the reason they could
    /// not be read, which every call then fails with).
    pub fn handler(
        client: Arc<AwsClient>,
        connections: Result<Connections, String>,
    ) -> Arc<dyn TaskHandler> {
        Arc::new(Arc::new(HttpInvoke {
            client,
            connections,
            tokens: Mutex::new(HashMap::new()),
            warned: Mutex::new(HashSet::new()),
        }))
    }
}

impl TaskHandler for Arc<HttpInvoke> {
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let me = self.clone();
        Box::pin(async move { me.call(&req.input).await })
    }
}

/// A `States.Runtime` failure about the Task's parameters.
fn bad(cause: impl Into<String>) -> TaskError {
    TaskError::runtime(cause)
}

/// A parameter value as the text a header, query or form carries.
fn scalar(name: &str, v: &Value) -> Result<String, TaskError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        Value::Number(_) | Value::Bool(_) => Ok(v.to_json()),
        other => Err(bad(format!(
            "The HTTP Task's {name} must be a string, number or boolean, not {}.",
            other.type_name()
        ))),
    }
}

/// How arrays are written in a URL-encoded body.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ArrayFormat {
    Indices,
    Repeat,
    Commas,
    Brackets,
}

/// `RequestBody` as `application/x-www-form-urlencoded`: nested objects as `a[b]=…`, arrays as
/// `format` says.
fn url_encode(body: &Map, format: ArrayFormat) -> Result<String, TaskError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in body.iter() {
        encode_value(&mut pairs, percent_encode(k, false), v, format)?;
    }
    Ok(pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

fn encode_value(
    out: &mut Vec<(String, String)>,
    key: String,
    v: &Value,
    format: ArrayFormat,
) -> Result<(), TaskError> {
    match v {
        Value::Null => out.push((key, String::new())),
        Value::Object(m) => {
            for (k, v) in m.iter() {
                encode_value(
                    out,
                    format!("{key}[{}]", percent_encode(k, false)),
                    v,
                    format,
                )?;
            }
        }
        Value::Array(items) => match format {
            ArrayFormat::Commas => {
                let texts = items
                    .iter()
                    .map(|i| {
                        scalar("RequestBody array items", i).map(|t| percent_encode(&t, false))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                out.push((key, texts.join(",")));
            }
            _ => {
                for (i, item) in items.iter().enumerate() {
                    let k = match format {
                        ArrayFormat::Indices => format!("{key}[{i}]"),
                        ArrayFormat::Brackets => format!("{key}[]"),
                        _ => key.clone(),
                    };
                    encode_value(out, k, item, format)?;
                }
            }
        },
        other => out.push((
            key,
            percent_encode(&scalar("RequestBody values", other)?, false),
        )),
    }
    Ok(())
}

/// The request the Task's parameters describe, before the connection's additions.
struct Call {
    url: String,
    method: hyper::Method,
    connection: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Body>,
}

enum Body {
    /// JSON (or a string as it is).
    Json(Value),
    /// URL-encoded pairs, already encoded, and the array format for additions.
    Form(Map, ArrayFormat),
}

fn parse_call(input: &Value) -> Result<Call, TaskError> {
    let Value::Object(p) = input else {
        return Err(bad(format!(
            "The HTTP Task's parameters must be a JSON object, not {}.",
            input.type_name()
        )));
    };
    let url = match p.get("ApiEndpoint") {
        Some(Value::String(s)) => s.to_string(),
        _ => return Err(bad("The HTTP Task needs ApiEndpoint, a URL string.")),
    };
    let ok_url = (url.starts_with("https://") || url.starts_with("http://"))
        && url.parse::<hyper::Uri>().is_ok_and(|u| u.host().is_some());
    if !ok_url {
        return Err(bad(format!(
            "The HTTP Task's ApiEndpoint '{url}' is not an http(s) URL."
        )));
    }
    let method = match p.get("Method").and_then(Value::as_str) {
        Some(m @ ("GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "HEAD")) => {
            hyper::Method::from_bytes(m.as_bytes()).expect("a listed method is valid")
        }
        Some(other) => {
            return Err(bad(format!(
                "The HTTP Task's Method '{other}' is not one of GET, POST, PUT, DELETE, PATCH, \
                 OPTIONS, HEAD."
            )));
        }
        None => return Err(bad("The HTTP Task needs Method.")),
    };
    let connection = ["Authentication", "InvocationConfig"]
        .iter()
        .find_map(|k| p.get(*k)?.get("ConnectionArn")?.as_str())
        .ok_or_else(|| bad("The HTTP Task needs Authentication.ConnectionArn."))?
        .to_string();
    let mut headers = Vec::new();
    match p.get("Headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h.iter() {
                if FRAMING_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                    return Err(bad(format!(
                        "The HTTP Task may not set the header '{k}': the HTTP client sets it."
                    )));
                }
                headers.push((k.to_string(), scalar(&format!("header '{k}'"), v)?));
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "The HTTP Task's Headers must be an object, not {}.",
                other.type_name()
            )));
        }
    }
    let mut query = Vec::new();
    match p.get("QueryParameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(q)) => {
            for (k, v) in q.iter() {
                match v {
                    Value::Array(items) => {
                        for i in items.iter() {
                            query.push((
                                k.to_string(),
                                scalar(&format!("query parameter '{k}'"), i)?,
                            ));
                        }
                    }
                    v => query.push((k.to_string(), scalar(&format!("query parameter '{k}'"), v)?)),
                }
            }
        }
        Some(other) => {
            return Err(bad(format!(
                "The HTTP Task's QueryParameters must be an object, not {}.",
                other.type_name()
            )));
        }
    }
    let transform = p.get("Transform");
    let encoding = transform
        .and_then(|t| t.get("RequestBodyEncoding"))
        .and_then(Value::as_str)
        .unwrap_or("NONE");
    let format = match transform
        .and_then(|t| t.get("RequestEncodingOptions"))
        .and_then(|o| o.get("ArrayFormat"))
        .and_then(Value::as_str)
        .unwrap_or("INDICES")
    {
        "INDICES" => ArrayFormat::Indices,
        "REPEAT" => ArrayFormat::Repeat,
        "COMMAS" => ArrayFormat::Commas,
        "BRACKETS" => ArrayFormat::Brackets,
        other => {
            return Err(bad(format!(
                "The HTTP Task's ArrayFormat '{other}' is not one of INDICES, REPEAT, COMMAS, \
                 BRACKETS."
            )));
        }
    };
    let body = match (p.get("RequestBody"), encoding) {
        (None, _) => None,
        (Some(b), "NONE") => Some(Body::Json(b.clone())),
        (Some(Value::Object(m)), "URL_ENCODED") => Some(Body::Form((**m).clone(), format)),
        (Some(other), "URL_ENCODED") => {
            return Err(bad(format!(
                "The HTTP Task's RequestBody must be an object to be URL_ENCODED, not {}.",
                other.type_name()
            )));
        }
        (Some(_), other) => {
            return Err(bad(format!(
                "The HTTP Task's RequestBodyEncoding '{other}' is not NONE or URL_ENCODED."
            )));
        }
    };
    Ok(Call {
        url,
        method,
        connection,
        headers,
        query,
        body,
    })
}

/// `name` set to `value`, replacing a header of the same name (case-insensitively).
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_string(), value));
}

fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let encoded: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k, false), percent_encode(v, false)))
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", encoded.join("&"))
}

/// The result object AWS shows for an answer.
fn result(resp: &super::aws::AwsResponse) -> Value {
    let mut headers = Map::new();
    for (k, v) in &resp.headers {
        let key = Str::from(k.to_ascii_lowercase().as_str());
        match headers.get_mut(&key) {
            Some(Value::Array(vs)) => Arc::make_mut(vs).push(Value::str(v)),
            _ => {
                headers.insert(key, Value::array(vec![Value::str(v)]));
            }
        }
    }
    let is_json = resp
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"));
    let text = String::from_utf8_lossy(&resp.body);
    let body = if is_json {
        value::parse(&text).unwrap_or_else(|_| Value::str(&text))
    } else {
        Value::str(&text)
    };
    let reason = hyper::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut out = Map::new();
    out.insert("Headers".into(), Value::object(headers));
    out.insert("ResponseBody".into(), body);
    out.insert("StatusCode".into(), Value::int(i64::from(resp.status)));
    out.insert("StatusText".into(), Value::str(reason));
    Value::object(out)
}

impl HttpInvoke {
    async fn call(&self, input: &Value) -> Result<Value, TaskError> {
        let mut call = parse_call(input)?;
        let connections = self.connections.as_ref().map_err(|e| bad(e.clone()))?;
        match connections.0.get(&call.connection) {
            Some(conn) => self.authorize(&mut call, conn).await?,
            None => self.warn_unconfigured(&call.connection),
        }
        let (content_type, body) = match &call.body {
            None => (None, Bytes::new()),
            Some(Body::Json(Value::String(s))) => (None, Bytes::from(s.to_string())),
            Some(Body::Json(v)) => (Some("application/json"), Bytes::from(v.to_json())),
            Some(Body::Form(m, format)) => (
                Some("application/x-www-form-urlencoded"),
                Bytes::from(url_encode(m, *format)?),
            ),
        };
        if let Some(ct) = content_type
            && !call
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            call.headers.push(("content-type".into(), ct.into()));
        }
        let url = with_query(&call.url, &call.query);
        let resp = self
            .send(call.method.clone(), &url, &call.headers, body)
            .await?;
        let out = result(&resp);
        if (200..300).contains(&resp.status) {
            Ok(out)
        } else {
            Err(TaskError::new(
                format!("States.Http.StatusCode.{}", resp.status),
                out.to_json(),
            ))
        }
    }

    async fn send(
        &self,
        method: hyper::Method,
        url: &str,
        headers: &[(String, String)],
        body: Bytes,
    ) -> Result<super::aws::AwsResponse, TaskError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| bad(format!("The HTTP Task's URL '{url}' is not valid: {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        let mut builder = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .header("user-agent", "Expressway|HttpInvoke");
        for (k, v) in headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| bad(format!("The HTTP Task's request is not valid: {e}")))?;
        match tokio::time::timeout(HTTP_TIMEOUT, self.client.call_unsigned(request)).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(TaskError::new("States.Http.Socket", e.0)),
            Err(_) => Err(TaskError::new(
                "States.Http.Socket",
                format!("The call to {url} did not complete within 60 seconds."),
            )),
        }
    }

    fn warn_unconfigured(&self, arn: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if warned.insert(arn.to_string()) {
            eprintln!(
                "expressway: http:invoke: the connection '{arn}' has no authorization configured \
                 ({CONNECTIONS_ENV}); its calls go without credentials"
            );
        }
    }

    /// Adds the connection's credentials and parameters (the connection's win over the Task's).
    async fn authorize(&self, call: &mut Call, conn: &Connection) -> Result<(), TaskError> {
        match &conn.auth {
            Auth::ApiKey { name, value } => set_header(&mut call.headers, name, value.clone()),
            Auth::Basic { username, password } => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                set_header(&mut call.headers, "Authorization", format!("Basic {token}"));
            }
            Auth::ClientCredentials { .. } => {
                let token = self.token(&call.connection, &conn.auth).await?;
                set_header(
                    &mut call.headers,
                    "Authorization",
                    format!("Bearer {token}"),
                );
            }
        }
        let extra = &conn.invocation;
        for (k, v) in &extra.headers {
            set_header(&mut call.headers, k, v.clone());
        }
        for (k, v) in &extra.query {
            call.query.retain(|(q, _)| q != k);
            call.query.push((k.clone(), v.clone()));
        }
        if !extra.body.is_empty() {
            let additions = extra
                .body
                .iter()
                .map(|(k, v)| (Str::from(k.as_str()), Value::str(v)));
            match &mut call.body {
                Some(Body::Json(Value::Object(m))) => Arc::make_mut(m).extend(additions),
                Some(Body::Form(m, _)) => m.extend(additions),
                None => call.body = Some(Body::Json(Value::object(additions.collect()))),
                Some(Body::Json(_)) => {} // a non-object body has nowhere to put them
            }
        }
        Ok(())
    }

    /// The connection's OAuth access token, fetched with the client credentials when none is
    /// cached or it is about to expire.
    async fn token(&self, arn: &str, auth: &Auth) -> Result<String, TaskError> {
        let Auth::ClientCredentials {
            endpoint,
            method,
            client_id,
            client_secret,
            extra,
        } = auth
        else {
            unreachable!("token() is called for OAuth connections only");
        };
        {
            let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((t, until)) = tokens.get(arn)
                && Instant::now() < *until
            {
                return Ok(t.clone());
            }
        }
        let failed = |why: String| {
            TaskError::new(
                "Events.ConnectionResource.AuthInternalError",
                format!("Could not get an OAuth token for the connection '{arn}': {why}"),
            )
        };
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        form.extend(extra.body.iter().cloned());
        let form = form
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k, false), percent_encode(v, false)))
            .collect::<Vec<_>>()
            .join("&");
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{client_id}:{client_secret}"));
        let mut headers = vec![
            ("authorization".to_string(), format!("Basic {basic}")),
            (
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
        ];
        headers.extend(extra.headers.iter().cloned());
        let method = hyper::Method::from_bytes(method.as_bytes())
            .map_err(|_| failed(format!("'{method}' is not an HTTP method")))?;
        let url = with_query(endpoint, &extra.query);
        let (url, body) = if method == hyper::Method::GET {
            let sep = if url.contains('?') { '&' } else { '?' };
            (format!("{url}{sep}{form}"), Bytes::new())
        } else {
            (url, Bytes::from(form))
        };
        let resp = self
            .send(method, &url, &headers, body)
            .await
            .map_err(|e| failed(e.cause.unwrap_or_default()))?;
        if !(200..300).contains(&resp.status) {
            return Err(failed(format!("the endpoint answered {}", resp.status)));
        }
        let doc = value::parse_slice(&resp.body).map_err(|e| failed(e.to_string()))?;
        let token = doc
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| failed("the answer has no access_token".into()))?
            .to_string();
        // A minute's margin, so a token is not sent as it expires.
        let life = doc
            .get("expires_in")
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s > 0.0)
            .map_or(Duration::from_secs(3600), |s| {
                Duration::from_secs_f64(s.min(1e7))
            });
        let until = Instant::now() + life.saturating_sub(Duration::from_secs(60));
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(arn.to_string(), (token.clone(), until));
        Ok(token)
    }
}

#[cfg(test)]
#[path = "http_invoke_tests.rs"]
mod tests;
