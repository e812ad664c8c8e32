//! S3 through `aws-sdk:s3:*` and Distributed Map's `ItemReader`/`ResultWriter`, against moto's
//! S3 started here on 127.0.0.1 (skipped without moto locally, a failure on CI without it).
//!
//! The `#[ignore]`d `item_reader_memory_stays_flat` streams a 100,000-line CSV and a 100 MB
//! JSONL object and prints the peak RSS: `cargo test --release --test s3_distributed_map --
//! --ignored --nocapture`.

mod real;

use std::sync::Arc;

use expressway::engine::{Engine, ExecutionMeta, Settings};
use expressway::tasks::aws::{AwsClient, AwsSettings, CredentialSource, register_services};
use serde_json::{Value, json};

struct Fixture {
    moto: real::Moto,
    engine: Engine,
    rt: tokio::runtime::Runtime,
}

impl Fixture {
    fn start() -> Option<Fixture> {
        let moto = real::Moto::start()?;
        let settings = AwsSettings {
            endpoint_url: Some(moto.url.clone()),
            ..AwsSettings::default()
        };
        let creds = CredentialSource::fixed(real::ACCESS_KEY, real::SECRET_KEY, None);
        let client = Arc::new(AwsClient::new(settings, creds).expect("client"));
        let mut engine = Engine::new(Settings::default());
        register_services(engine.tasks_mut(), client);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        Some(Fixture { moto, engine, rt })
    }

    /// Runs a Python snippet with an `s3` client on this moto.
    fn s3(&self, script: &str) -> String {
        self.moto
            .py(&format!("s3 = boto3.client('s3', **kw)\n{script}"))
    }

    /// Runs `definition` on `input`: (status, output or {"Error","Cause"}).
    fn run(&self, definition: &Value, input: &Value) -> (String, Value) {
        let program = self
            .engine
            .compile(&definition.to_string())
            .expect("the definition compiles");
        let meta = ExecutionMeta::express(self.engine.settings(), "s3test", "run");
        let o = self
            .rt
            .block_on(self.engine.execute(program, &input.to_string(), meta));
        let out = match &o.output {
            Some(t) => serde_json::from_str(t).expect("output is JSON"),
            None => json!({"Error": o.error, "Cause": o.cause}),
        };
        (o.status.as_str().to_string(), out)
    }
}

fn map_over(reader: Value, processor_state: Value, extra: Value) -> Value {
    let mut map = json!({
        "Type": "Map",
        "ItemReader": reader,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P",
            "States": {"P": processor_state}
        },
        "End": true
    });
    for (k, v) in extra.as_object().expect("an object") {
        map[k] = v.clone();
    }
    json!({"StartAt": "M", "States": {"M": map}})
}

fn pass() -> Value {
    json!({"Type": "Pass", "End": true})
}

#[test]
fn aws_sdk_s3_operations() {
    let Some(f) = Fixture::start() else { return };
    f.s3("s3.create_bucket(Bucket='ops')\ns3.put_object(Bucket='ops', Key='file_key', Body=b'binary data')");
    let task = |action: &str, params: Value| {
        json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": format!("arn:aws:states:::aws-sdk:s3:{action}"),
            "Parameters": params, "End": true}}})
    };
    // GetObject as the recorded cases show it: Body as a string, typed members.
    let (status, out) = f.run(
        &task("getObject", json!({"Bucket": "ops", "Key": "file_key"})),
        &json!({}),
    );
    assert_eq!(status, "SUCCEEDED", "{out}");
    assert_eq!(out["Body"], "binary data");
    assert_eq!(out["ContentLength"], 11);
    assert_eq!(out["AcceptRanges"], "bytes");
    assert_eq!(out["Metadata"], json!({}));
    assert!(
        out["ETag"].as_str().is_some_and(|e| e.starts_with('"')),
        "{out}"
    );
    let modified = out["LastModified"].as_str().expect("a date");
    assert!(
        chrono::DateTime::parse_from_rfc3339(modified).is_ok(),
        "{modified}"
    );

    // PutObject writes the Body as JSON text (AWS's recorded ETag is that of `"text data"`).
    let (status, out) = f.run(
        &task(
            "putObject",
            json!({"Bucket": "ops", "Key": "k.json", "Body.$": "$.b", "Metadata": {"Owner": "me"}}),
        ),
        &json!({"b": {"x": [1, 2]}}),
    );
    assert_eq!(status, "SUCCEEDED", "{out}");
    assert!(
        out["ETag"].is_string() && out["ChecksumCRC32"].is_string(),
        "{out}"
    );
    assert_eq!(
        f.s3("print(s3.get_object(Bucket='ops', Key='k.json')['Body'].read().decode())"),
        r#"{"x":[1,2]}"#
    );
    let (_, out) = f.run(
        &task("headObject", json!({"Bucket": "ops", "Key": "k.json"})),
        &json!({}),
    );
    assert_eq!(out["Metadata"], json!({"owner": "me"}));
    assert!(out.get("Body").is_none());

    let (status, out) = f.run(
        &task(
            "copyObject",
            json!({"Bucket": "ops", "Key": "copy.json", "CopySource": "ops/k.json"}),
        ),
        &json!({}),
    );
    assert_eq!(status, "SUCCEEDED", "{out}");
    assert!(out["CopyObjectResult"]["ETag"].is_string(), "{out}");

    let (_, out) = f.run(
        &task("listObjectsV2", json!({"Bucket": "ops", "Prefix": "k"})),
        &json!({}),
    );
    assert_eq!(out["KeyCount"], 1, "{out}");
    assert_eq!(out["Contents"][0]["Key"], "k.json");
    assert_eq!(out["Contents"][0]["Size"], 11);
    assert_eq!(out["IsTruncated"], false);

    let (status, _) = f.run(
        &task("deleteObject", json!({"Bucket": "ops", "Key": "copy.json"})),
        &json!({}),
    );
    assert_eq!(status, "SUCCEEDED");

    // Errors as the SDK v2 names them, catchable as States.TaskFailed.
    let (status, out) = f.run(
        &task("getObject", json!({"Bucket": "ops", "Key": "copy.json"})),
        &json!({}),
    );
    assert_eq!(status, "FAILED");
    assert_eq!(out["Error"], "S3.NoSuchKeyException", "{out}");
    assert!(
        out["Cause"]
            .as_str()
            .is_some_and(|c| c.contains("(Service: S3, Status Code: 404, Request ID: ")),
        "{out}"
    );
    let (_, out) = f.run(
        &task("listObjectsV2", json!({"Bucket": "missing-bucket"})),
        &json!({}),
    );
    assert_eq!(out["Error"], "S3.NoSuchBucketException", "{out}");
    // Bad input: a clear States.Runtime, never a panic.
    let (_, out) = f.run(
        &task("getObject", json!({"Bucket": ["ops"], "Key": "k"})),
        &json!({}),
    );
    assert_eq!(out["Error"], "States.Runtime", "{out}");
    let (_, out) = f.run(
        &task("selectObjectContent", json!({"Bucket": "ops"})),
        &json!({}),
    );
    assert_eq!(out["Error"], "States.Runtime", "{out}");
    assert!(
        out["Cause"]
            .as_str()
            .is_some_and(|c| c.contains("selectObjectContent")),
        "{out}"
    );
}

/// A Distributed Map over a CSV in S3 with a ResultWriter, then a second workflow that reads
/// the manifest and the results it names back through S3.
#[test]
fn csv_map_with_result_writer_and_reading_the_results_back() {
    let Some(f) = Fixture::start() else { return };
    let mut csv = String::from("id,name,qty\n");
    for i in 0..250 {
        csv.push_str(&format!("{i},\"item, {i}\",{}\n", i % 7));
    }
    f.s3(&format!(
        "s3.create_bucket(Bucket='data')\ns3.create_bucket(Bucket='results')\ns3.put_object(Bucket='data', Key='in/items.csv', Body={csv:?})"
    ));
    let first = map_over(
        json!({
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
            "Parameters": {"Bucket.$": "$.bucket", "Key": "in/items.csv"}
        }),
        json!({"Type": "Pass", "Parameters": {"id.$": "$.id", "double.$": "States.MathAdd(States.StringToJson($.qty), States.StringToJson($.qty))"}, "End": true}),
        json!({
            "MaxConcurrency": 8,
            "ResultWriter": {
                "Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "results", "Prefix": "runs/csv"}
            }
        }),
    );
    let (status, out) = f.run(&first, &json!({"bucket": "data"}));
    assert_eq!(status, "SUCCEEDED", "{out}");
    let key = out["ResultWriterDetails"]["Key"]
        .as_str()
        .expect("a key")
        .to_string();
    assert_eq!(out["ResultWriterDetails"]["Bucket"], "results");
    assert!(
        key.starts_with("runs/csv/") && key.ends_with("/manifest.json"),
        "{key}"
    );
    let arn = out["MapRunArn"].as_str().expect("an ARN");
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:") && arn.contains(":mapRun:s3test/M:"),
        "{arn}"
    );

    let manifest: Value = serde_json::from_str(&f.s3(&format!(
        "print(s3.get_object(Bucket='results', Key='{key}')['Body'].read().decode())"
    )))
    .expect("the manifest is JSON");
    assert_eq!(manifest["DestinationBucket"], "results");
    assert_eq!(manifest["MapRunArn"], out["MapRunArn"]);
    assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]));
    let succeeded = &manifest["ResultFiles"]["SUCCEEDED"][0];
    assert!(
        succeeded["Key"]
            .as_str()
            .is_some_and(|k| k.ends_with("/SUCCEEDED_0.json")),
        "{manifest}"
    );

    // The second workflow: the manifest, then a Distributed Map over the SUCCEEDED file.
    let second = json!({
        "StartAt": "Manifest",
        "States": {
            "Manifest": {
                "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket.$": "$.ResultWriterDetails.Bucket", "Key.$": "$.ResultWriterDetails.Key"},
                "ResultSelector": {"manifest.$": "States.StringToJson($.Body)"},
                "Next": "Results"
            },
            "Results": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {
                        "Bucket.$": "$.manifest.DestinationBucket",
                        "Key.$": "$.manifest.ResultFiles.SUCCEEDED[0].Key"
                    }
                },
                "ItemSelector": {"status.$": "$$.Map.Item.Value.Status", "output.$": "States.StringToJson($$.Map.Item.Value.Output)"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}
                },
                "End": true
            }
        }
    });
    let (status, back) = f.run(&second, &out);
    assert_eq!(status, "SUCCEEDED", "{back}");
    let back = back.as_array().expect("an array");
    assert_eq!(back.len(), 250);
    for (i, r) in back.iter().enumerate() {
        assert_eq!(r["status"], "SUCCEEDED");
        assert_eq!(r["output"]["id"], i.to_string());
        assert_eq!(r["output"]["double"], 2 * (i % 7));
    }
}

#[test]
fn json_jsonl_and_listing_readers_with_max_items() {
    let Some(f) = Fixture::start() else { return };
    f.s3(
        "s3.create_bucket(Bucket='rdr')\n\
         s3.put_object(Bucket='rdr', Key='a.json', Body=json.dumps([{'n': i} for i in range(30)]))\n\
         s3.put_object(Bucket='rdr', Key='a.jsonl', Body='\\n'.join(json.dumps({'n': i}) for i in range(30)) + '\\n')\n\
         for i in range(5): s3.put_object(Bucket='rdr', Key='pre/o%d' % i, Body='x' * i)\n\
         s3.put_object(Bucket='rdr', Key='other', Body='y')",
    );
    let get = |key: &str, input_type: &str, max: Option<u64>| {
        let mut config = json!({"InputType": input_type});
        if let Some(m) = max {
            config["MaxItems"] = json!(m);
        }
        map_over(
            json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
                   "Parameters": {"Bucket": "rdr", "Key": key}}),
            pass(),
            json!({}),
        )
    };
    for (key, kind) in [("a.json", "JSON"), ("a.jsonl", "JSONL")] {
        let (status, out) = f.run(&get(key, kind, None), &json!({}));
        assert_eq!(status, "SUCCEEDED", "{out}");
        let items = out.as_array().expect("items");
        assert_eq!(items.len(), 30, "{kind}");
        assert_eq!(items[29], json!({"n": 29}));
        let (_, out) = f.run(&get(key, kind, Some(4)), &json!({}));
        assert_eq!(
            out,
            json!([{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]),
            "{kind}"
        );
    }
    // MaxItemsPath and JSONata's MaxItems.
    let by_path = map_over(
        json!({"Resource": "arn:aws:states:::s3:getObject",
               "ReaderConfig": {"InputType": "JSONL", "MaxItemsPath": "$.max"},
               "Parameters": {"Bucket": "rdr", "Key": "a.jsonl"}}),
        pass(),
        json!({}),
    );
    let (_, out) = f.run(&by_path, &json!({"max": 2}));
    assert_eq!(out, json!([{"n": 0}, {"n": 1}]));
    let jsonata = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                       "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
                       "Arguments": {"Bucket": "rdr", "Key": "{% $states.input.key %}"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let (_, out) = f.run(&jsonata, &json!({"max": 3, "key": "a.json"}));
    assert_eq!(out, json!([{"n": 0}, {"n": 1}, {"n": 2}]));

    // listObjectsV2: each object as AWS hands it to the Map.
    let list = map_over(
        json!({"Resource": "arn:aws:states:::s3:listObjectsV2",
               "Parameters": {"Bucket": "rdr", "Prefix": "pre/"}}),
        pass(),
        json!({}),
    );
    let (status, out) = f.run(&list, &json!({}));
    assert_eq!(status, "SUCCEEDED", "{out}");
    let items = out.as_array().expect("items");
    assert_eq!(items.len(), 5);
    for (i, item) in items.iter().enumerate() {
        let keys: Vec<&String> = item.as_object().expect("an object").keys().collect();
        assert_eq!(
            keys,
            ["Etag", "Key", "LastModified", "Size", "StorageClass"]
        );
        assert_eq!(item["Key"], format!("pre/o{i}"));
        assert_eq!(item["Size"], i);
        assert!(
            item["LastModified"]
                .as_i64()
                .is_some_and(|t| t > 1_600_000_000),
            "{item}"
        );
    }
}

#[test]
fn malformed_and_missing_objects_fail_the_reader() {
    let Some(f) = Fixture::start() else { return };
    f.s3("s3.create_bucket(Bucket='bad')\n\
         s3.put_object(Bucket='bad', Key='obj.json', Body='{\"not\": \"an array\"}')\n\
         s3.put_object(Bucket='bad', Key='broken.json', Body='[{\"a\": 1}, {\"a\": ')\n\
         s3.put_object(Bucket='bad', Key='broken.jsonl', Body='{\"a\": 1}\\nnot json\\n')\n\
         s3.put_object(Bucket='bad', Key='empty.csv', Body='')");
    let get = |key: &str, config: Value| {
        map_over(
            json!({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": config,
                   "Parameters": {"Bucket": "bad", "Key": key}}),
            pass(),
            json!({}),
        )
    };
    for (key, config, says) in [
        ("obj.json", json!({"InputType": "JSON"}), "JSON array"),
        ("broken.json", json!({"InputType": "JSON"}), "malformed"),
        ("broken.jsonl", json!({"InputType": "JSONL"}), "line 2"),
        (
            "nope.json",
            json!({"InputType": "JSON"}),
            "The specified key does not exist",
        ),
        ("obj.json", json!({"InputType": "MANIFEST"}), "MANIFEST"),
    ] {
        let (status, out) = f.run(&get(key, config), &json!({}));
        assert_eq!(status, "FAILED", "{key}: {out}");
        assert_eq!(out["Error"], "States.ItemReaderFailed", "{key}: {out}");
        assert!(
            out["Cause"].as_str().is_some_and(|c| c.contains(says)),
            "{key}: {out}"
        );
    }
    // A negative MaxItems, as AWS words it.
    let (_, out) = f.run(
        &get(
            "obj.json",
            json!({"InputType": "JSON", "MaxItemsPath": "$.m"}),
        ),
        &json!({"m": -1}),
    );
    assert_eq!(
        out,
        json!({"Error": "States.ItemReaderFailed", "Cause": "field MaxItems must be positive"})
    );
    // An empty CSV is no items; a failed iteration fails the Map; the reader error is catchable.
    let (status, out) = f.run(
        &get(
            "empty.csv",
            json!({"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}),
        ),
        &json!({}),
    );
    assert_eq!((status.as_str(), out), ("SUCCEEDED", json!([])));
    let mut caught = get("broken.json", json!({"InputType": "JSON"}));
    caught["States"]["M"]["Catch"] =
        json!([{"ErrorEquals": ["States.ItemReaderFailed"], "Next": "C"}]);
    caught["States"]["M"]
        .as_object_mut()
        .expect("M")
        .remove("End");
    caught["States"]["M"]["Next"] = json!("Done");
    caught["States"]["C"] = json!({"Type": "Pass", "Result": "caught", "End": true});
    caught["States"]["Done"] = json!({"Type": "Succeed"});
    let (status, out) = f.run(&caught, &json!({}));
    assert_eq!((status.as_str(), out), ("SUCCEEDED", json!("caught")));
    // A ResultWriter whose bucket is missing: States.ResultWriterFailed.
    let writer = map_over(
        json!({"Resource": "arn:aws:states:::s3:listObjectsV2", "Parameters": {"Bucket": "bad"}}),
        pass(),
        json!({"ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                "Parameters": {"Bucket": "no-such-results", "Prefix": "p"}}}),
    );
    let (status, out) = f.run(&writer, &json!({}));
    assert_eq!(status, "FAILED", "{out}");
    assert_eq!(out["Error"], "States.ResultWriterFailed", "{out}");
}

/// Peak resident memory of this process, in KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Streams a 100,000-line CSV and a 100 MB JSONL object through a Distributed Map and prints
/// the peak RSS before and after: the objects are read in 4 MiB ranges, so the peak grows by a
/// few chunks, not by the object.
#[test]
#[ignore = "writes 100 MB into moto; run with --ignored --nocapture for the memory figures"]
fn item_reader_memory_stays_flat() {
    let Some(f) = Fixture::start() else { return };
    // Built and uploaded by Python, so this process never holds the objects.
    f.s3(
        "s3.create_bucket(Bucket='big')\n\
         s3.put_object(Bucket='big', Key='rows.csv', Body='id,name,value\\n' + ''.join('%d,name-%d,%d\\n' % (i, i, i * 7) for i in range(100000)))\n\
         line = json.dumps({'pad': 'x' * 1000}) + '\\n'\n\
         n = (100 * 1024 * 1024) // len(line)\n\
         s3.put_object(Bucket='big', Key='big.jsonl', Body=line * n)\n\
         print(n)",
    );
    let before = peak_rss_kib();
    // Outputs stay small (the Map's output is every iteration's), the items do not.
    let small = json!({"Type": "Pass", "Result": 1, "End": true});
    let csv = map_over(
        json!({"Resource": "arn:aws:states:::s3:getObject",
               "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
               "Parameters": {"Bucket": "big", "Key": "rows.csv"}}),
        small.clone(),
        json!({"MaxConcurrency": 100}),
    );
    let started = std::time::Instant::now();
    let (status, out) = f.run(&csv, &json!({}));
    assert_eq!(status, "SUCCEEDED", "{out}");
    assert_eq!(out.as_array().map(Vec::len), Some(100_000));
    let after_csv = peak_rss_kib();
    println!(
        "CSV 100,000 rows: {:.1} s, peak RSS {before} KiB before, {after_csv} KiB after",
        started.elapsed().as_secs_f64()
    );
    let jsonl = map_over(
        json!({"Resource": "arn:aws:states:::s3:getObject",
               "ReaderConfig": {"InputType": "JSONL"},
               "Parameters": {"Bucket": "big", "Key": "big.jsonl"}}),
        small,
        json!({"MaxConcurrency": 100}),
    );
    let started = std::time::Instant::now();
    let (status, out) = f.run(&jsonl, &json!({}));
    assert_eq!(
        status,
        "SUCCEEDED",
        "{}",
        out.to_string().chars().take(300).collect::<String>()
    );
    let n = out.as_array().map(Vec::len).unwrap_or(0);
    let after_jsonl = peak_rss_kib();
    println!(
        "JSONL 100 MB ({n} lines): {:.1} s, peak RSS {after_jsonl} KiB (+{} KiB)",
        started.elapsed().as_secs_f64(),
        after_jsonl.saturating_sub(after_csv)
    );
    // Holding the object whole would add 100 MB at least.
    assert!(
        after_jsonl.saturating_sub(before) < 60 * 1024,
        "peak RSS grew by {} KiB",
        after_jsonl.saturating_sub(before)
    );
}
