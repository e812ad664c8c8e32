//! The AWS-recorded conformance cases whose `needs` name SNS, SQS, DynamoDB, EventBridge, Step
//! Functions, `aws-sdk:dynamodb`, `aws-sdk:sfn` or `aws-sdk:secretsmanager`, run against moto's
//! server (started here on 127.0.0.1), reset before each case, after creating what the case's
//! input and definition name (table, topic, queue, state machine). Prints a per-service table of
//! passed / failed / not runnable with the reasons; expectations are never edited, so a case where
//! moto answers differently from AWS stays failing. Fails when the passes drop below
//! `tests/conformance/SERVICES_FLOOR`. `CONFORMANCE_VERBOSE=1` prints every failure.

#[path = "conformance/harness.rs"]
#[allow(dead_code)] // shared with tests/conformance.rs, which uses all of it
mod harness;
mod real;

use std::collections::BTreeMap;
use std::sync::Arc;

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::tasks::aws::{AwsClient, AwsSettings, CredentialSource, register_services};
use harness::{Answer, Case};

const SERVICES: [&str; 10] = [
    "sns",
    "sqs",
    "dynamodb",
    "events",
    "states",
    "aws-sdk:dynamodb",
    "aws-sdk:sfn",
    "aws-sdk:secretsmanager",
    "s3",
    "aws-sdk:s3",
];

/// Why a case cannot run against these servers, if it cannot.
fn not_runnable(case: &Case) -> Option<&'static str> {
    let needs = case.needs();
    if needs
        .iter()
        .any(|n| n != "lambda" && !SERVICES.contains(&n.as_str()))
    {
        return Some("needs a service moto is not started for here");
    }
    let def = case.raw["definition"].to_string();
    if def.contains(".waitForTaskToken") || def.contains(".sync") {
        return Some(
            "a .sync/.waitForTaskToken pattern: a Standard execution whose answer came from the \
             recording's own worker (or child machine), which the case does not hold",
        );
    }
    if needs.iter().any(|n| n == "lambda") {
        return Some("needs a Lambda function the recording deployed");
    }
    if def.contains("aws-sdk:s3:getObject") && case.raw["resources"]["s3_objects"].is_null() {
        return Some(
            "reads an S3 object whose content the recording does not hold (tests/s3_distributed_map.rs has the same shape)",
        );
    }
    None
}

/// The Python that creates the table, topic or queue the case's input names, unless the case is
/// about it missing.
fn resources_script(case: &Case) -> String {
    let input = &case.raw["input"];
    let mut script = String::new();
    if let Some(table) = input["TableName"].as_str()
        && !table.starts_with("no_such")
        && !table.starts_with('/')
    {
        script.push_str(&format!(
            "ddb.create_table(TableName='{table}', KeySchema=[{{'AttributeName':'id','KeyType':'HASH'}}], AttributeDefinitions=[{{'AttributeName':'id','AttributeType':'S'}}], BillingMode='PAY_PER_REQUEST')\n"
        ));
    }
    if let Some(topic) = input["TopicArn"].as_str()
        && !case.id.contains("error_topic_arn")
    {
        let name = topic.rsplit(':').next().unwrap_or_default();
        let attrs = if name.ends_with(".fifo") {
            "{'FifoTopic': 'true', 'ContentBasedDeduplication': 'false'}"
        } else {
            "{}"
        };
        script.push_str(&format!(
            "sns.create_topic(Name='{name}', Attributes={attrs})\n"
        ));
    }
    script.push_str(&s3_script(case));
    if let Some(queue) = input["QueueUrl"].as_str() {
        let name = queue.rsplit('/').next().unwrap_or_default();
        script.push_str(&format!("sqs.create_queue(QueueName='{name}')\n"));
    }
    // The state machines the input or the definition starts, unless the case is about one
    // missing: a one-state machine stands in for the recording's.
    let machine = regex::Regex::new(r":stateMachine:([A-Za-z0-9_-]+)").expect("regex");
    let text = format!("{input} {}", case.raw["definition"]);
    let mut names: Vec<&str> = machine
        .captures_iter(&text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .filter(|n| !n.contains("NoSuch"))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        script.push_str(&format!(
            "boto3.client('stepfunctions', **kw).create_state_machine(name='{name}', definition=json.dumps({{'StartAt':'P','States':{{'P':{{'Type':'Pass','End':True}}}}}}), roleArn='arn:aws:iam::111111111111:role/r')\n"
        ));
    }
    script
}

/// Forgets everything moto holds, so that each case sees only what it created.
fn reset(url: &str) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("moto listens");
    let request = format!(
        "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("reset sent");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "moto reset: {answer}");
}

/// The buckets and objects an S3 case reads (`resources.s3_objects`), and the bucket an
/// `aws-sdk:s3` case writes to unless the case is about it missing.
fn s3_script(case: &Case) -> String {
    let mut script = String::new();
    let mut buckets = std::collections::BTreeSet::new();
    let objects = case.raw["resources"]["s3_objects"].as_object();
    for (path, body) in objects.into_iter().flatten() {
        let Some((bucket, key)) = path.split_once('/') else {
            continue;
        };
        if buckets.insert(bucket.to_string()) {
            script.push_str(&format!("s3.create_bucket(Bucket={bucket:?})\n"));
        }
        let body = serde_json::to_string(body.as_str().unwrap_or_default()).unwrap_or_default();
        script.push_str(&format!(
            "s3.put_object(Bucket={bucket:?}, Key={key:?}, Body={body})\n"
        ));
    }
    if case.needs().iter().any(|n| n == "aws-sdk:s3")
        && let Some(bucket) = case.raw["input"]["Bucket"].as_str()
        && !bucket.contains("Nonexistent")
        && buckets.insert(bucket.to_string())
    {
        script.push_str(&format!("s3.create_bucket(Bucket={bucket:?})\n"));
    }
    if !script.is_empty() {
        script.insert_str(0, "s3 = boto3.client('s3', **kw)\n");
    }
    script
}

async fn run_case(engine: &Engine, case: &Case) -> Answer {
    let definition = case.raw["definition"].to_string();
    let input = case.raw["input"].to_string();
    let program = engine
        .compile(&definition)
        .expect("recorded definitions compile");
    let meta = ExecutionMeta::express(engine.settings(), "conformance", "execution");
    let o = engine.execute(program, &input, meta).await;
    Answer {
        status: o.status.as_str().to_string(),
        output: o
            .output
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        error: o.error,
        cause: o.cause,
        account: engine.settings().account.clone(),
    }
}

#[test]
fn service_cases_against_moto() {
    let cases = harness::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/cases.jsonl"
    ));
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| c.needs().iter().any(|n| SERVICES.contains(&n.as_str())))
        .collect();
    // moto serves the recordings' account, so their ARNs name what it holds.
    let Some(moto) = real::Moto::start_with(&[("MOTO_ACCOUNT_ID", "111111111111")]) else {
        return;
    };
    let verbose = std::env::var("CONFORMANCE_VERBOSE").is_ok();
    let settings = AwsSettings {
        endpoint_url: Some(moto.url.clone()),
        ..AwsSettings::default()
    };
    let creds = CredentialSource::fixed("AKIDCONFORMANCE", "secret", None);
    let client = Arc::new(AwsClient::new(settings, creds).expect("client"));
    let mut engine = Engine::new(Settings {
        account: "111111111111".into(),
        ..Settings::default()
    });
    register_services(engine.tasks_mut(), client);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // service → (passed, failed, not runnable); reasons per service.
    let mut table: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let mut passed = 0;
    for case in &selected {
        let service = case
            .needs()
            .into_iter()
            .filter(|n| n != "lambda")
            .collect::<Vec<_>>()
            .join("+");
        let row = table.entry(service.clone()).or_default();
        if let Some(why) = not_runnable(case) {
            row.2 += 1;
            *reasons
                .entry(service)
                .or_default()
                .entry(format!("not runnable: {why}"))
                .or_default() += 1;
            continue;
        }
        reset(&moto.url);
        let setup = resources_script(case);
        if !setup.is_empty() {
            moto.py(&setup);
        }
        let answer = rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(30), run_case(&engine, case)).await
        });
        let verdict = match answer {
            Ok(a) => harness::compare(case, &a),
            Err(_) => Err("no answer in 30 s".into()),
        };
        match verdict {
            Ok(()) => {
                row.0 += 1;
                passed += 1;
            }
            Err(reason) => {
                row.1 += 1;
                if verbose {
                    println!("FAIL {}: {reason}", case.id);
                }
                let short: String = reason.chars().take(160).collect();
                *reasons
                    .entry(service)
                    .or_default()
                    .entry(format!("failed: {}: {short}", case.id))
                    .or_default() += 1;
            }
        }
    }
    println!(
        "{:<26} {:>6} {:>6} {:>12}",
        "needs", "passed", "failed", "not runnable"
    );
    for (service, (p, f, n)) in &table {
        println!("{service:<26} {p:>6} {f:>6} {n:>12}");
    }
    for (service, rs) in &reasons {
        for (r, count) in rs {
            println!("  {service}: {count} × {r}");
        }
    }
    let failed: u32 = table.values().map(|r| r.1).sum();
    println!("service conformance: {passed} passed, {failed} failed");
    let floor: u32 = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/conformance/SERVICES_FLOOR"
    ))
    .ok()
    .and_then(|s| s.trim().parse().ok())
    .unwrap_or(0);
    assert!(
        passed >= floor,
        "service conformance dropped: {passed} passed, the floor is {floor}"
    );
}
