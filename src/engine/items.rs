//! Where a Map's or Parallel's children come from: a list known up front, or (Distributed Map
//! with an `ItemReader`) items read from the object store while the iterations run, each taken
//! through `ItemSelector` and `ItemBatcher` as it arrives. And, for `ResultWriter`, what each
//! iteration did, and the results written when the Map is done.

// Without `http-client` there is no reader or writer: only the fixed source is used.
#![cfg_attr(not(feature = "http-client"), allow(unused))]

use crate::compile::{Program, ScopeId};
use crate::value::{Map, Str, Value};
use crate::vm::{BatchSpec, ErrorName, Execution, StatesError};
use std::time::SystemTime;

/// One child to run: its scope, its input and (for a Map iteration) its index.
pub(super) type Child = (ScopeId, Value, Option<usize>);

/// What [`Source::next_ready`] found.
pub(super) enum Next {
    Child(Child),
    /// The reader has nothing yet: wait with [`Source::wait`].
    Pending,
    Done,
}

/// The children of one Map or Parallel.
pub(super) enum Source {
    Fixed(std::vec::IntoIter<Child>),
    #[cfg(feature = "http-client")]
    Read(Box<Reader>),
}

impl Source {
    /// How many children there are, when known before they run.
    pub fn total(&self) -> Option<usize> {
        match self {
            Source::Fixed(it) => Some(it.len()),
            #[cfg(feature = "http-client")]
            Source::Read(_) => None,
        }
    }

    /// The next child if it is there, without waiting.
    pub fn next_ready(&mut self, exec: &Execution, program: &Program) -> Result<Next, StatesError> {
        match self {
            Source::Fixed(it) => Ok(it.next().map_or(Next::Done, Next::Child)),
            #[cfg(feature = "http-client")]
            Source::Read(r) => r.next_ready(exec, program),
        }
    }

    /// Waits until [`next_ready`](Self::next_ready) has something to say. Cancel-safe.
    pub async fn wait(&mut self) {
        match self {
            Source::Fixed(_) => {}
            #[cfg(feature = "http-client")]
            Source::Read(r) => r.wait().await,
        }
    }
}

/// Items arriving from an `ItemReader`.
#[cfg(feature = "http-client")]
pub(super) struct Reader {
    rx: tokio::sync::mpsc::Receiver<Result<Value, crate::tasks::items::ReadError>>,
    /// An item received by `wait`, not yet handed out.
    peeked: Option<Option<Result<Value, crate::tasks::items::ReadError>>>,
    processor: ScopeId,
    effective: Value,
    batching: Option<BatchSpec>,
    batch: Vec<Value>,
    batch_bytes: usize,
    /// Items read (the index `ItemSelector` sees).
    read: usize,
    /// Children handed out.
    started: usize,
    finished: bool,
}

#[cfg(feature = "http-client")]
impl Reader {
    /// Starts reading `run`'s items from `store`.
    pub fn open(
        store: std::sync::Arc<dyn crate::tasks::items::ObjectStore>,
        reader: crate::vm::ReaderRun,
        processor: ScopeId,
        effective: Value,
        batching: Option<BatchSpec>,
    ) -> Reader {
        let spec = crate::tasks::items::ReadSpec {
            resource: reader.resource.to_string(),
            params: reader.params,
            config: reader.config,
            max_items: reader.max_items,
        };
        Reader {
            rx: crate::tasks::items::open(store, spec),
            peeked: None,
            processor,
            effective,
            batching,
            batch: Vec::new(),
            batch_bytes: 0,
            read: 0,
            started: 0,
            finished: false,
        }
    }

    fn child(&mut self, input: Value) -> Next {
        let i = self.started;
        self.started += 1;
        Next::Child((self.processor, input, Some(i)))
    }

    fn next_ready(&mut self, exec: &Execution, program: &Program) -> Result<Next, StatesError> {
        use tokio::sync::mpsc::error::TryRecvError;
        loop {
            if self.finished {
                return Ok(match self.flush() {
                    Some(b) => self.child(b),
                    None => Next::Done,
                });
            }
            let got = match self.peeked.take() {
                Some(g) => g,
                None => match self.rx.try_recv() {
                    Ok(r) => Some(r),
                    Err(TryRecvError::Empty) => return Ok(Next::Pending),
                    Err(TryRecvError::Disconnected) => None,
                },
            };
            let item = match got {
                None => {
                    self.finished = true;
                    continue;
                }
                Some(Err(e)) => {
                    return Err(StatesError::new(ErrorName::ITEM_READER_FAILED, e.0));
                }
                Some(Ok(item)) => item,
            };
            let index = self.read;
            self.read += 1;
            let selected = exec.select_read_item(program, &self.effective, index, item)?;
            let Some(spec) = &self.batching else {
                return Ok(self.child(selected));
            };
            let size = selected.to_json().len() + 1;
            let full = !self.batch.is_empty()
                && (self.batch.len() >= spec.max_items || self.batch_bytes + size > spec.max_bytes);
            let out = if full { self.flush() } else { None };
            self.batch_bytes += size;
            self.batch.push(selected);
            if let Some(b) = out {
                return Ok(self.child(b));
            }
        }
    }

    /// The batch gathered so far, wrapped as `{"BatchInput": …, "Items": [...]}`.
    fn flush(&mut self) -> Option<Value> {
        if self.batch.is_empty() {
            return None;
        }
        let items = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let mut m = Map::with_capacity(2);
        if let Some(bi) = self.batching.as_ref().and_then(|b| b.batch_input.clone()) {
            m.insert(Str::from("BatchInput"), bi);
        }
        m.insert(Str::from("Items"), Value::array(items));
        Some(Value::object(m))
    }

    async fn wait(&mut self) {
        if self.peeked.is_none() && !self.finished {
            self.peeked = Some(self.rx.recv().await);
        }
    }
}

/// What one iteration did, kept for `ResultWriter`.
#[derive(Clone)]
pub(super) struct Done {
    pub name: String,
    pub input: Value,
    pub start: SystemTime,
    pub stop: SystemTime,
    pub outcome: Result<Value, StatesError>,
}

/// The iterations' records, in item order, when a `ResultWriter` wants them.
#[derive(Default)]
pub(super) struct Records {
    started: Vec<(Value, SystemTime)>,
    done: Vec<Option<Done>>,
}

impl Records {
    pub fn start(&mut self, i: usize, input: &Value) {
        if self.started.len() <= i {
            self.started
                .resize(i + 1, (Value::Null, SystemTime::UNIX_EPOCH));
            self.done.resize(i + 1, None);
        }
        self.started[i] = (input.clone(), SystemTime::now());
    }

    pub fn finish(&mut self, i: usize, r: &Result<Value, StatesError>) {
        let Some((input, start)) = self.started.get(i).cloned() else {
            return;
        };
        self.done[i] = Some(Done {
            name: uuid::Uuid::new_v4().to_string(),
            input,
            start,
            stop: SystemTime::now(),
            outcome: r.clone(),
        });
    }

    pub fn into_done(self) -> Vec<Done> {
        self.done.into_iter().flatten().collect()
    }
}

/// The Map's result with a `ResultWriter`: the results written (and `MapRunArn`/
/// `ResultWriterDetails`), or (no `Resource`: `WriterConfig` alone) the results transformed.
#[cfg(feature = "http-client")]
pub(super) async fn write(
    store: Option<std::sync::Arc<dyn crate::tasks::items::ObjectStore>>,
    writer: crate::vm::WriterRun,
    exec: &Execution,
    map_name: &str,
    done: Vec<Done>,
) -> Result<Value, StatesError> {
    use crate::tasks::items::{self, ChildRecord, MapRunNames};
    let failed = |cause: String| StatesError::new(ErrorName::RESULT_WRITER_FAILED, cause);
    let info = exec.info();
    let names = MapRunNames::new(&info.execution_arn, &info.state_machine_name, map_name);
    let records: Vec<ChildRecord> = done
        .into_iter()
        .map(|d| ChildRecord {
            name: d.name,
            input: d.input,
            outcome: d.outcome.map_err(|e| {
                (
                    e.error.map(|s| s.to_string()),
                    e.cause.map(|s| s.to_string()),
                )
            }),
            start: d.start,
            stop: d.stop,
        })
        .collect();
    if writer.resource.is_none() {
        let (t, _) = items::writer_config(&writer.config, false).map_err(failed)?;
        let mut out = Vec::new();
        for r in &records {
            items::transform(r, &names, t, &mut out);
        }
        return Ok(Value::array(out));
    }
    let Some(store) = store else {
        return Err(failed(
            "No object store is configured for ResultWriter (the engine calls S3 when real services are enabled)".into(),
        ));
    };
    items::write_results(&*store, &writer.params, &writer.config, &names, &records)
        .await
        .map_err(failed)
}

#[cfg(all(test, feature = "http-client"))]
mod tests {
    use crate::engine::{Engine, ExecutionMeta, Settings};
    use crate::tasks::TaskError;
    use crate::tasks::items::{ObjectStore, Page, Range};
    use crate::value::{Map, Value};
    use futures::future::BoxFuture;
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// Objects in memory; counts the ranges fetched.
    #[derive(Default)]
    struct Mem {
        objects: Mutex<HashMap<String, Vec<u8>>>,
        ranges: AtomicUsize,
    }

    impl ObjectStore for Mem {
        fn get_range(
            &self,
            params: Map,
            start: u64,
            len: u64,
        ) -> BoxFuture<'static, Result<Range, TaskError>> {
            self.ranges.fetch_add(1, Ordering::SeqCst);
            let key = params.get("Key").and_then(Value::as_str).unwrap_or("");
            let r = match self.objects.lock().unwrap().get(key) {
                Some(o) => {
                    let s = (start as usize).min(o.len());
                    let e = (s + len as usize).min(o.len());
                    Ok(Range {
                        bytes: bytes::Bytes::copy_from_slice(&o[s..e]),
                        total: o.len() as u64,
                    })
                }
                None => Err(TaskError::new(
                    "S3.NoSuchKeyException",
                    "The specified key does not exist.",
                )),
            };
            Box::pin(async move { r })
        }

        fn list(&self, _: Map, _: Option<String>) -> BoxFuture<'static, Result<Page, TaskError>> {
            Box::pin(async {
                Ok(Page {
                    items: Vec::new(),
                    next: None,
                })
            })
        }

        fn put(
            &self,
            _: String,
            key: String,
            body: Vec<u8>,
        ) -> BoxFuture<'static, Result<(), TaskError>> {
            self.objects.lock().unwrap().insert(key, body);
            Box::pin(async { Ok(()) })
        }
    }

    fn engine(store: Arc<Mem>) -> Engine {
        let mut engine = Engine::new(Settings::default());
        engine.tasks_mut().set_object_store(store);
        engine
    }

    fn map(reader_config: &str, processor: &str, extra: &str) -> String {
        format!(
            r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{extra}
            "ItemReader":{{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{reader_config},
                "Parameters":{{"Bucket":"b","Key.$":"$.key"}}}},
            "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"}},
                "StartAt":"P","States":{processor}}},"End":true}}}}}}"#
        )
    }

    async fn run(engine: &Engine, def: &str, input: &str) -> (String, String) {
        let program = engine.compile(def).expect("compiles");
        let meta = ExecutionMeta::express(engine.settings(), "sm", "e");
        let o = engine.execute(program, input, meta).await;
        let shown = o
            .output
            .unwrap_or_else(|| format!("{:?}: {:?}", o.error, o.cause));
        (o.status.as_str().to_string(), shown)
    }

    #[tokio::test]
    async fn max_items_stops_reading_and_batches_and_selectors_apply_as_items_arrive() {
        let store = Arc::new(Mem::default());
        // Three ranges' worth of lines.
        let line = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(1000));
        let n = (3 * crate::tasks::items::CHUNK as usize) / line.len();
        store
            .put("b".into(), "big.jsonl".into(), line.repeat(n).into_bytes())
            .await
            .unwrap();
        let engine = engine(store.clone());
        let def = map(
            r#"{"InputType":"JSONL","MaxItems":5}"#,
            r#"{"P":{"Type":"Pass","End":true}}"#,
            r#""ItemSelector":{"i.$":"$$.Map.Item.Index"},"ItemBatcher":{"MaxItemsPerBatch":2},"#,
        );
        let (status, out) = run(&engine, &def, r#"{"key":"big.jsonl"}"#).await;
        assert_eq!(status, "SUCCEEDED", "{out}");
        assert_eq!(
            out,
            r#"[{"Items":[{"i":0},{"i":1}]},{"Items":[{"i":2},{"i":3}]},{"Items":[{"i":4}]}]"#
        );
        assert_eq!(
            store.ranges.load(Ordering::SeqCst),
            1,
            "MaxItems stops the reader"
        );
        // Every item: all three ranges, one after another.
        let all = map(
            r#"{"InputType":"JSONL"}"#,
            r#"{"P":{"Type":"Pass","Result":1,"End":true}}"#,
            r#""MaxConcurrency":3,"#,
        );
        let (status, out) = run(&engine, &all, r#"{"key":"big.jsonl"}"#).await;
        assert_eq!(status, "SUCCEEDED");
        assert_eq!(out.matches('1').count(), n);
        assert_eq!(store.ranges.load(Ordering::SeqCst), 1 + 3);
    }

    #[tokio::test]
    async fn tolerated_failure_percentage_is_judged_on_all_read_items() {
        let store = Arc::new(Mem::default());
        let rows: String = (0..10).map(|i| format!("{i}\n")).collect();
        store
            .put(
                "b".into(),
                "n.csv".into(),
                format!("n\n{rows}").into_bytes(),
            )
            .await
            .unwrap();
        let engine = engine(store);
        let processor = r#"{"P":{"Type":"Choice","Choices":[{"Or":[{"Variable":"$.n","StringEquals":"0"},{"Variable":"$.n","StringEquals":"2"},{"Variable":"$.n","StringEquals":"4"},{"Variable":"$.n","StringEquals":"6"},{"Variable":"$.n","StringEquals":"8"}],"Next":"F"}],"Default":"OK"},
            "F":{"Type":"Fail","Error":"Odd","Cause":"even"},"OK":{"Type":"Succeed"}}"#;
        let csv = r#"{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"}"#;
        let (status, out) = run(
            &engine,
            &map(csv, processor, r#""ToleratedFailurePercentage":60,"#),
            r#"{"key":"n.csv"}"#,
        )
        .await;
        assert_eq!(status, "SUCCEEDED", "{out}");
        assert!(
            out.starts_with(r#"[{"Error":"Odd","Cause":"even"},{"n":"1"}"#),
            "{out}"
        );
        let (status, out) = run(
            &engine,
            &map(csv, processor, r#""ToleratedFailurePercentage":40,"#),
            r#"{"key":"n.csv"}"#,
        )
        .await;
        assert_eq!(status, "FAILED");
        assert!(
            out.contains("States.ExceedToleratedFailureThreshold"),
            "{out}"
        );
        let (status, out) = run(&engine, &map(csv, processor, ""), r#"{"key":"missing"}"#).await;
        assert_eq!(status, "FAILED");
        assert!(
            out.contains("States.ItemReaderFailed") && out.contains("does not exist"),
            "{out}"
        );
    }

    #[tokio::test]
    async fn result_writer_writes_the_manifest_and_result_files() {
        let store = Arc::new(Mem::default());
        store
            .put("b".into(), "in.json".into(), br#"[1,2,[3,4]]"#.to_vec())
            .await
            .unwrap();
        let engine = engine(store.clone());
        let def = map(
            r#"{"InputType":"JSON"}"#,
            r#"{"P":{"Type":"Pass","End":true}}"#,
            r#""ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p/"},"WriterConfig":{"Transformation":"FLATTEN","OutputType":"JSONL"}},"#,
        );
        let (status, out) = run(&engine, &def, r#"{"key":"in.json"}"#).await;
        assert_eq!(status, "SUCCEEDED", "{out}");
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        let key = out["ResultWriterDetails"]["Key"]
            .as_str()
            .unwrap()
            .to_string();
        {
            let objects = store.objects.lock().unwrap();
            let manifest: serde_json::Value = serde_json::from_slice(&objects[&key]).unwrap();
            let file = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
                .as_str()
                .unwrap();
            assert!(
                file.starts_with("p/") && file.ends_with("/SUCCEEDED_0.jsonl"),
                "{file}"
            );
            assert_eq!(String::from_utf8_lossy(&objects[file]), "1\n2\n3\n4\n");
            assert_eq!(manifest["ResultFiles"]["FAILED"], serde_json::json!([]));
        }
        // A Map Run that fails still writes what its iterations did.
        let def = map(
            r#"{"InputType":"JSON"}"#,
            r#"{"P":{"Type":"Fail","Error":"No","Cause":"never"}}"#,
            r#""ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"failed"}},"#,
        );
        let (status, out) = run(&engine, &def, r#"{"key":"in.json"}"#).await;
        assert_eq!(status, "FAILED");
        assert!(out.contains("\"No\""), "{out}");
        {
            let objects = store.objects.lock().unwrap();
            let failed: Vec<&String> = objects
                .keys()
                .filter(|k| k.starts_with("failed/") && k.ends_with("/FAILED_0.json"))
                .collect();
            assert_eq!(failed.len(), 1, "{:?}", objects.keys().collect::<Vec<_>>());
            let entries: serde_json::Value = serde_json::from_slice(&objects[failed[0]]).unwrap();
            assert_eq!(entries[0]["Status"], "FAILED");
            assert_eq!(entries[0]["Error"], "No");
            assert_eq!(entries[0]["Cause"], "never");
        }
        // WriterConfig alone: nothing written, the output transformed.
        let def = map(
            r#"{"InputType":"JSON"}"#,
            r#"{"P":{"Type":"Pass","End":true}}"#,
            r#""ResultWriter":{"WriterConfig":{"Transformation":"FLATTEN"}},"#,
        );
        let (_, out) = run(&engine, &def, r#"{"key":"in.json"}"#).await;
        assert_eq!(out, "[1,2,3,4]");
    }
}
