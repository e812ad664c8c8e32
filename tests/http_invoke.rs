//! The HTTP Task (`arn:aws:states:::http:invoke`) against a small HTTP server started here on
//! 127.0.0.1: what goes out (method, path and query, headers, body encodings, credentials from
//! the configured connections) and what comes back (the result object, the
//! `States.Http.StatusCode.<code>` failures, `States.Http.Socket` when nothing answers).

mod real;

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use expressway::engine::{Engine, ExecutionMeta, Outcome, Settings, Status};
use expressway::tasks::aws::{AwsClient, AwsSettings, CredentialSource};
use expressway::tasks::http_invoke::{Connections, HttpInvoke};
use real::{Request, read_request};

/// A server that records every request and answers by path.
struct Api {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Api {
    fn start() -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Api { url, seen }
    }

    fn requests(&self) -> Vec<Request> {
        self.seen.lock().expect("seen").clone()
    }

    fn last(&self) -> Request {
        self.requests().pop().expect("a request came")
    }
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Request>>) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader) {
        let path = req.0.split(' ').nth(1).unwrap_or_default().to_string();
        seen.lock().expect("seen").push(req);
        let (status, ctype, body) = match path.split('?').next().unwrap_or_default() {
            "/json" => ("200 OK", "application/json", r#"{"ok":true,"n":1}"#),
            "/text" => ("200 OK", "text/plain", "hello"),
            "/missing" => ("404 Not Found", "application/json", r#"{"message":"nope"}"#),
            "/boom" => ("503 Service Unavailable", "text/plain", "down"),
            "/token" => (
                "200 OK",
                "application/json",
                r#"{"access_token":"tok123","token_type":"Bearer","expires_in":3600}"#,
            ),
            _ => ("200 OK", "application/json", "{}"),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nX-Trace: a\r\nX-Trace: b\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

fn engine(connections: &str) -> Engine {
    let creds = CredentialSource::fixed("AKIDHTTP", "secret", None);
    let client = Arc::new(AwsClient::new(AwsSettings::default(), creds).expect("client"));
    let mut engine = Engine::new(Settings::default());
    let handler = HttpInvoke::handler(client, Connections::parse(connections));
    engine
        .tasks_mut()
        .register_exact("arn:aws:states:::http:invoke", handler);
    engine
}

async fn run(engine: &Engine, params: &str) -> Outcome {
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"arn:aws:states:::http:invoke","Parameters":{params},"End":true}}}}}}"#
    );
    let program = engine.compile(&def).expect("a valid definition");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "exec");
    engine.execute(program, "{}", meta).await
}

fn output(o: &Outcome) -> serde_json::Value {
    assert_eq!(o.status, Status::Succeeded, "{:?} {:?}", o.error, o.cause);
    serde_json::from_str(o.output.as_deref().expect("output")).expect("JSON")
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.1
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const CONN: &str = r#""Authentication":{"ConnectionArn":"arn:aws:events:us-east-1:123456789012:connection/none/1"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_out_as_the_task_describes_them() {
    let api = Api::start();
    let engine = engine("{}");

    // GET with headers and query parameters; a JSON answer is parsed.
    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/json","Method":"GET",{CONN},"Headers":{{"X-Custom":"v1","X-Num":7}},"QueryParameters":{{"q":"a b","limit":5}}}}"#,
            api.url
        ),
    )
    .await;
    let out = output(&o);
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["StatusText"], "OK");
    assert_eq!(out["ResponseBody"], serde_json::json!({"ok": true, "n": 1}));
    assert_eq!(
        out["Headers"]["content-type"],
        serde_json::json!(["application/json"])
    );
    assert_eq!(out["Headers"]["x-trace"], serde_json::json!(["a", "b"]));
    let req = api.last();
    assert_eq!(req.0, "GET /json?q=a%20b&limit=5 HTTP/1.1");
    assert_eq!(header(&req, "x-custom"), Some("v1"));
    assert_eq!(header(&req, "x-num"), Some("7"));
    assert_eq!(
        header(&req, "authorization"),
        None,
        "no connection configured"
    );

    // POST with a JSON body; a text answer stays text.
    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/text","Method":"POST",{CONN},"RequestBody":{{"name":"x","list":[1,2]}}}}"#,
            api.url
        ),
    )
    .await;
    assert_eq!(output(&o)["ResponseBody"], "hello");
    let req = api.last();
    assert_eq!(req.0, "POST /text HTTP/1.1");
    assert_eq!(header(&req, "content-type"), Some("application/json"));
    assert_eq!(
        String::from_utf8_lossy(&req.2),
        r#"{"name":"x","list":[1,2]}"#
    );

    // URL_ENCODED bodies, in each array format.
    for (format, expected) in [
        ("INDICES", "a[0]=x&a[1]=y&b=c%26d"),
        ("REPEAT", "a=x&a=y&b=c%26d"),
        ("COMMAS", "a=x,y&b=c%26d"),
        ("BRACKETS", "a[]=x&a[]=y&b=c%26d"),
    ] {
        let o = run(
            &engine,
            &format!(
                r#"{{"ApiEndpoint":"{}/form","Method":"PUT",{CONN},"RequestBody":{{"a":["x","y"],"b":"c&d"}},"Transform":{{"RequestBodyEncoding":"URL_ENCODED","RequestEncodingOptions":{{"ArrayFormat":"{format}"}}}}}}"#,
                api.url
            ),
        )
        .await;
        output(&o);
        let req = api.last();
        assert_eq!(req.0, "PUT /form HTTP/1.1");
        assert_eq!(
            header(&req, "content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(String::from_utf8_lossy(&req.2), expected, "{format}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_statuses_fail_with_the_status_and_the_answer() {
    let api = Api::start();
    let engine = engine("{}");
    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/missing","Method":"DELETE",{CONN}}}"#,
            api.url
        ),
    )
    .await;
    assert_eq!(o.status, Status::Failed);
    assert_eq!(o.error.as_deref(), Some("States.Http.StatusCode.404"));
    let cause: serde_json::Value =
        serde_json::from_str(o.cause.as_deref().expect("cause")).expect("JSON cause");
    assert_eq!(cause["StatusCode"], 404);
    assert_eq!(cause["StatusText"], "Not Found");
    assert_eq!(cause["ResponseBody"]["message"], "nope");

    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/boom","Method":"GET",{CONN}}}"#,
            api.url
        ),
    )
    .await;
    assert_eq!(o.error.as_deref(), Some("States.Http.StatusCode.503"));

    // Caught like any task error.
    let def = format!(
        r#"{{"StartAt":"T","States":{{"T":{{"Type":"Task","Resource":"arn:aws:states:::http:invoke","Parameters":{{"ApiEndpoint":"{}/missing","Method":"GET",{CONN}}},"Catch":[{{"ErrorEquals":["States.Http.StatusCode.404"],"ResultPath":"$.err","Next":"F"}}],"End":true}},"F":{{"Type":"Pass","End":true}}}}}}"#,
        api.url
    );
    let program = engine.compile(&def).expect("valid");
    let o = engine
        .execute(
            program,
            "{}",
            ExecutionMeta::express(engine.settings(), "sm", "e"),
        )
        .await;
    assert_eq!(output(&o)["err"]["Error"], "States.Http.StatusCode.404");

    // Nobody listening: a socket error.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let o = run(
        &engine,
        &format!(r#"{{"ApiEndpoint":"http://127.0.0.1:{port}/x","Method":"GET",{CONN}}}"#),
    )
    .await;
    assert_eq!(
        o.error.as_deref(),
        Some("States.Http.Socket"),
        "{:?}",
        o.cause
    );

    // Bad parameters never reach the server.
    let before = api.requests().len();
    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/json","Method":"BREW",{CONN}}}"#,
            api.url
        ),
    )
    .await;
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert_eq!(api.requests().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_connections_add_their_credentials() {
    let api = Api::start();
    let connections = format!(
        r#"{{
        "arn:aws:events:us-east-1:1:connection/key/1": {{"AuthorizationType":"API_KEY","AuthParameters":{{
            "ApiKeyAuthParameters":{{"ApiKeyName":"x-api-key","ApiKeyValue":"sekrit"}},
            "InvocationHttpParameters":{{"HeaderParameters":[{{"Key":"X-Custom","Value":"from-connection"}}],
                "QueryStringParameters":[{{"Key":"tenant","Value":"t1"}}],
                "BodyParameters":[{{"Key":"source","Value":"conn"}}]}}}}}},
        "arn:aws:events:us-east-1:1:connection/basic/1": {{"AuthorizationType":"BASIC","AuthParameters":{{
            "BasicAuthParameters":{{"Username":"user","Password":"pw"}}}}}},
        "arn:aws:events:us-east-1:1:connection/oauth/1": {{"AuthorizationType":"OAUTH_CLIENT_CREDENTIALS","AuthParameters":{{
            "OAuthParameters":{{"AuthorizationEndpoint":"{}/token","HttpMethod":"POST",
                "ClientParameters":{{"ClientID":"cid","ClientSecret":"csecret"}}}}}}}}
    }}"#,
        api.url
    );
    let engine = engine(&connections);
    let call = |conn: &str, extra: &str| {
        format!(
            r#"{{"ApiEndpoint":"{}/json","Method":"POST","Authentication":{{"ConnectionArn":"arn:aws:events:us-east-1:1:connection/{conn}/1"}}{extra}}}"#,
            api.url
        )
    };

    // API key, with the connection's header, query and body parameters winning over the Task's.
    output(
        &run(
            &engine,
            &call(
                "key",
                r#","Headers":{"X-Custom":"from-task"},"RequestBody":{"source":"task","n":1}"#,
            ),
        )
        .await,
    );
    let req = api.last();
    assert_eq!(req.0, "POST /json?tenant=t1 HTTP/1.1");
    assert_eq!(header(&req, "x-api-key"), Some("sekrit"));
    assert_eq!(header(&req, "x-custom"), Some("from-connection"));
    let body: serde_json::Value = serde_json::from_slice(&req.2).expect("JSON body");
    assert_eq!(body, serde_json::json!({"source": "conn", "n": 1}));

    // Basic.
    output(&run(&engine, &call("basic", "")).await);
    assert_eq!(
        header(&api.last(), "authorization"),
        Some("Basic dXNlcjpwdw==")
    );

    // OAuth client credentials: one token for two calls.
    output(&run(&engine, &call("oauth", "")).await);
    output(&run(&engine, &call("oauth", "")).await);
    let reqs = api.requests();
    let tokens: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.0.starts_with("POST /token"))
        .collect();
    assert_eq!(tokens.len(), 1, "the token is cached");
    assert_eq!(
        header(tokens[0], "authorization"),
        Some("Basic Y2lkOmNzZWNyZXQ=")
    );
    assert_eq!(
        String::from_utf8_lossy(&tokens[0].2),
        "grant_type=client_credentials"
    );
    assert_eq!(header(&api.last(), "authorization"), Some("Bearer tok123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_configuration_fails_every_call_naming_it() {
    let api = Api::start();
    let engine = engine(r#"{"arn:c":{"AuthorizationType":"NONE","AuthParameters":{}}}"#);
    let o = run(
        &engine,
        &format!(
            r#"{{"ApiEndpoint":"{}/json","Method":"GET",{CONN}}}"#,
            api.url
        ),
    )
    .await;
    assert_eq!(o.error.as_deref(), Some("States.Runtime"));
    assert!(
        o.cause.as_deref().unwrap_or_default().contains("'NONE'"),
        "{:?}",
        o.cause
    );
    assert!(api.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jsonata_task_with_invocation_config_reads_the_parsed_body() {
    // The shape of the real-world definitions: JSONata Arguments, InvocationConfig, numbers as
    // query parameters, the result's ResponseBody read by the next state.
    let api = Api::start();
    let engine = engine("{}");
    let def = serde_json::json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Get",
        "States": {
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::http:invoke",
                "Arguments": {
                    "ApiEndpoint": format!("{{% '{}' & '/json' %}}", api.url),
                    "Method": "GET",
                    "InvocationConfig": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/x/1"},
                    "QueryParameters": {"limit": "{% $states.input.limit %}", "offset": 0}
                },
                "Assign": {"count": "{% $states.result.ResponseBody.n %}"},
                "Output": "{% {'status': $states.result.StatusCode} %}",
                "Next": "Read"
            },
            // Variables assigned by a state are seen from the next state on.
            "Read": {
                "Type": "Pass",
                "Output": "{% $merge([$states.input, {'count': $count}]) %}",
                "End": true
            }
        }
    });
    let program = engine.compile(&def.to_string()).expect("valid");
    let meta = ExecutionMeta::express(engine.settings(), "sm", "exec");
    let o = engine.execute(program, r#"{"limit":25}"#, meta).await;
    assert_eq!(output(&o), serde_json::json!({"status": 200, "count": 1}));
    assert_eq!(api.last().0, "GET /json?limit=25&offset=0 HTTP/1.1");
}
