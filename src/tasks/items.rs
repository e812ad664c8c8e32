//! Distributed Map over an object store: `ItemReader` reads items from S3 as the Map runs, and
//! `ResultWriter` writes the iterations' results back.
//!
//! In: an [`ObjectStore`] (S3 through the request layer, or any other store an embedder or a
//! test provides), the reader's resource, evaluated parameters and `ReaderConfig`. Out: items on
//! a bounded channel, read and parsed incrementally: an object is fetched in ranges of
//! [`CHUNK`] bytes, so a 100 MB JSONL object never sits in memory whole, and a reader stops
//! fetching as soon as the Map has enough (`MaxItems`) or stops listening. The parsers
//! ([`ItemParser`]) are push-based and know nothing of I/O.
//!
//! Formats: `JSON` (one array, split into its elements without parsing it whole), `JSONL` (one
//! value a line), `CSV` (`csv-core`, the `csv` crate's push parser: quoting, CRLF; headers from
//! the first row or `CSVHeaders`; a short row is padded with `""` and a long one cut to the
//! headers, as AWS does), and `listObjectsV2` (each object as `Etag`/`Key`/`LastModified`/
//! `Size`/`StorageClass`). `MANIFEST` and `PARQUET` fail with a clear `States.ItemReaderFailed`.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::TaskError;
use crate::value::{self, Map, Str, Value};

/// Bytes fetched per ranged GET.
pub const CHUNK: u64 = 4 << 20;
/// Items parsed ahead of the Map (on top of one slice's worth being parsed).
const AHEAD: usize = 512;
/// Bytes parsed before the items they hold are handed on.
const PARSE_SLICE: usize = 64 << 10;

/// One range of an object.
#[derive(Debug, Clone)]
pub struct Range {
    /// The bytes as the response holds them (no copy).
    pub bytes: bytes::Bytes,
    /// The object's whole size.
    pub total: u64,
}

/// One page of a listing: the items (as the reader hands them to the Map) and the token of the
/// next page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The items of this page, in order.
    pub items: Vec<Value>,
    /// The continuation token of the next page; `None` on the last.
    pub next: Option<String>,
}

/// What `ItemReader`/`ResultWriter` need of a store. Errors are the store's own
/// (`S3.NoSuchKeyException`, ...): the caller names them `States.ItemReaderFailed` or
/// `States.ResultWriterFailed`.
pub trait ObjectStore: Send + Sync {
    /// `len` bytes from `start` of the object `params` names (`Bucket`, `Key`, `VersionId`).
    fn get_range(
        &self,
        params: Map,
        start: u64,
        len: u64,
    ) -> BoxFuture<'static, Result<Range, TaskError>>;
    /// One page of `listObjectsV2` (`Bucket`, `Prefix`, ...), after `token`.
    fn list(
        &self,
        params: Map,
        token: Option<String>,
    ) -> BoxFuture<'static, Result<Page, TaskError>>;
    /// Writes `body` at `bucket`/`key`.
    fn put(
        &self,
        bucket: String,
        key: String,
        body: Vec<u8>,
    ) -> BoxFuture<'static, Result<(), TaskError>>;
}

/// Why reading items failed: the cause of `States.ItemReaderFailed`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError(pub String);

impl From<TaskError> for ReadError {
    fn from(e: TaskError) -> ReadError {
        ReadError(e.cause.unwrap_or(e.error))
    }
}

/// What to read and how.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    /// The ItemReader's `Resource`.
    pub resource: String,
    /// Its evaluated `Parameters`/`Arguments`.
    pub params: Value,
    /// `ReaderConfig` (without `MaxItems`).
    pub config: Value,
    /// 0 = every item.
    pub max_items: u64,
}

/// How an object's bytes become items.
#[derive(Debug, Clone)]
enum Format {
    Json,
    Jsonl,
    Csv {
        headers: Option<Vec<String>>,
        delimiter: u8,
    },
}

/// What a reader does: read an object, or list a bucket.
enum Plan {
    Object(Format),
    List,
}

fn plan(spec: &ReadSpec) -> Result<Plan, ReadError> {
    let action = spec.resource.rsplit(':').next().unwrap_or_default();
    let cfg = &spec.config;
    let text = |k: &str| cfg.get(k).and_then(Value::as_str).map(str::to_string);
    match action {
        "listObjectsV2" => return Ok(Plan::List),
        "getObject" => {}
        _ => {
            return Err(ReadError(format!(
                "The ItemReader resource '{}' is not supported: use arn:aws:states:::s3:getObject or arn:aws:states:::s3:listObjectsV2",
                spec.resource
            )));
        }
    }
    let format = match text("InputType").as_deref() {
        Some("JSON") | None => Format::Json,
        Some("JSONL") => Format::Jsonl,
        Some("CSV") => {
            let delimiter = match text("CSVDelimiter").as_deref() {
                None | Some("COMMA") => b',',
                Some("PIPE") => b'|',
                Some("SEMICOLON") => b';',
                Some("SPACE") => b' ',
                Some("TAB") => b'\t',
                Some(other) => {
                    return Err(ReadError(format!(
                        "CSVDelimiter '{other}' is not supported"
                    )));
                }
            };
            let headers = match text("CSVHeaderLocation").as_deref() {
                Some("GIVEN") => Some(
                    cfg.get("CSVHeaders")
                        .and_then(Value::as_array)
                        .unwrap_or_default()
                        .iter()
                        .map(|h| h.as_str().map_or_else(|| h.to_json(), str::to_string))
                        .collect(),
                ),
                _ => None,
            };
            Format::Csv { headers, delimiter }
        }
        Some(other) => {
            return Err(ReadError(format!(
                "InputType {other} is not supported by this engine's ItemReader (JSON, JSONL and CSV are)"
            )));
        }
    };
    Ok(Plan::Object(format))
}

/// Starts reading in a task of its own; the items (or the one error that ends them) arrive on
/// the returned channel, at most [`AHEAD`] ahead of the Map. Dropping the receiver stops the
/// reader at its next item.
pub fn open(
    store: Arc<dyn ObjectStore>,
    spec: ReadSpec,
) -> mpsc::Receiver<Result<Value, ReadError>> {
    let (tx, rx) = mpsc::channel(AHEAD);
    tokio::spawn(async move {
        if let Err(e) = read(store, &spec, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

/// `Ok` when every item was sent (or the receiver went away).
async fn read(
    store: Arc<dyn ObjectStore>,
    spec: &ReadSpec,
    tx: &mpsc::Sender<Result<Value, ReadError>>,
) -> Result<(), ReadError> {
    let params = match &spec.params {
        Value::Object(m) => (**m).clone(),
        other => {
            return Err(ReadError(format!(
                "The ItemReader's parameters must be an object, but were: {}",
                other.to_json()
            )));
        }
    };
    let limit = if spec.max_items == 0 {
        u64::MAX
    } else {
        spec.max_items
    };
    let mut sent = 0u64;
    // Sends each item until `limit`; false when no more are wanted.
    macro_rules! send_all {
        ($items:expr) => {{
            let mut more = true;
            for item in $items {
                if sent >= limit || tx.send(Ok(item)).await.is_err() {
                    more = false;
                    break;
                }
                sent += 1;
            }
            more && sent < limit
        }};
    }
    match plan(spec)? {
        Plan::List => {
            let mut token = None;
            loop {
                let page = store.list(params.clone(), token.take()).await?;
                if !send_all!(page.items) {
                    return Ok(());
                }
                match page.next {
                    Some(t) => token = Some(t),
                    None => return Ok(()),
                }
            }
        }
        Plan::Object(format) => {
            let mut parser = ItemParser::new(format);
            let mut start = 0u64;
            let mut items = Vec::new();
            loop {
                let range = store.get_range(params.clone(), start, CHUNK).await?;
                let got = range.bytes.len() as u64;
                start += got;
                let last = got == 0 || start >= range.total;
                // A chunk of short CSV rows is a hundred thousand items: parse it a slice at a
                // time so that only a slice's items wait for the Map.
                for slice in range.bytes.chunks(PARSE_SLICE) {
                    parser.push(slice, &mut items)?;
                    if !send_all!(items.drain(..)) {
                        return Ok(());
                    }
                }
                drop(range);
                if last {
                    parser.finish(&mut items)?;
                    let _ = send_all!(items.drain(..));
                    return Ok(());
                }
            }
        }
    }
}

/// A push parser from bytes to items.
pub struct ItemParser {
    state: ParseState,
}

enum ParseState {
    Json(JsonSplitter),
    Lines { pending: Vec<u8>, line: u64 },
    Csv(Box<CsvState>),
}

impl ItemParser {
    fn new(format: Format) -> ItemParser {
        let state = match &format {
            Format::Json => ParseState::Json(JsonSplitter::default()),
            Format::Jsonl => ParseState::Lines {
                pending: Vec::new(),
                line: 0,
            },
            Format::Csv { headers, delimiter } => ParseState::Csv(Box::new(CsvState {
                reader: csv_core::ReaderBuilder::new().delimiter(*delimiter).build(),
                out: vec![0; 1024],
                ends: vec![0; 32],
                out_len: 0,
                ends_len: 0,
                headers: headers.clone(),
                row: 0,
            })),
        };
        ItemParser { state }
    }

    /// A parser for `InputType` `JSON`, `JSONL` or `CSV` (`headers`: `CSVHeaders` when given,
    /// else the first row), for embedders and tests.
    pub fn for_input(input_type: &str, headers: Option<Vec<String>>) -> Option<ItemParser> {
        let format = match input_type {
            "JSON" => Format::Json,
            "JSONL" => Format::Jsonl,
            "CSV" => Format::Csv {
                headers,
                delimiter: b',',
            },
            _ => return None,
        };
        Some(ItemParser::new(format))
    }

    /// Parses `bytes`, appending every item they complete to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Value>) -> Result<(), ReadError> {
        match &mut self.state {
            ParseState::Json(s) => s.push(bytes, out),
            ParseState::Lines { pending, line } => {
                let mut rest = bytes;
                while let Some(nl) = rest.iter().position(|b| *b == b'\n') {
                    *line += 1;
                    if pending.is_empty() {
                        jsonl_line(&rest[..nl], *line, out)?;
                    } else {
                        pending.extend_from_slice(&rest[..nl]);
                        jsonl_line(pending, *line, out)?;
                        pending.clear();
                    }
                    rest = &rest[nl + 1..];
                }
                pending.extend_from_slice(rest);
                Ok(())
            }
            ParseState::Csv(c) => c.push(bytes, false, out),
        }
    }

    /// The end of the object: the last items, or why the object is malformed.
    pub fn finish(&mut self, out: &mut Vec<Value>) -> Result<(), ReadError> {
        match &mut self.state {
            ParseState::Json(s) => s.finish(out),
            ParseState::Lines { pending, line } => {
                if !pending.is_empty() {
                    *line += 1;
                    let last = std::mem::take(pending);
                    jsonl_line(&last, *line, out)?;
                }
                Ok(())
            }
            ParseState::Csv(c) => c.push(&[], true, out),
        }
    }
}

fn jsonl_line(line: &[u8], n: u64, out: &mut Vec<Value>) -> Result<(), ReadError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match value::parse_slice(line) {
        Ok(v) => {
            out.push(v);
            Ok(())
        }
        Err(e) => Err(ReadError(format!(
            "The JSONL file is malformed: line {n} is not valid JSON ({e})"
        ))),
    }
}

/// Splits a JSON array into its elements as bytes arrive, holding only the element being read.
#[derive(Default)]
struct JsonSplitter {
    started: bool,
    done: bool,
    depth: u32,
    in_string: bool,
    escaped: bool,
    element: Vec<u8>,
    /// A `,` was seen and no element after it yet.
    after_comma: bool,
    /// Elements read so far.
    elements: u64,
    offset: u64,
}

impl JsonSplitter {
    fn malformed(&self, what: &str) -> ReadError {
        ReadError(format!(
            "The JSON file is malformed: {what} (at byte {})",
            self.offset
        ))
    }

    fn push(&mut self, bytes: &[u8], out: &mut Vec<Value>) -> Result<(), ReadError> {
        for &b in bytes {
            self.offset += 1;
            if self.done {
                if !b.is_ascii_whitespace() {
                    return Err(self.malformed("data after the end of the top-level array"));
                }
                continue;
            }
            if !self.started {
                match b {
                    b'[' => self.started = true,
                    // A UTF-8 byte order mark, then whitespace, may come first.
                    0xEF | 0xBB | 0xBF if self.offset <= 3 => {}
                    b if b.is_ascii_whitespace() => {}
                    _ => {
                        return Err(ReadError(
                            "The JSON file must hold a JSON array of items at its top level".into(),
                        ));
                    }
                }
                continue;
            }
            if self.in_string {
                self.element.push(b);
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.element.push(b);
                }
                b'[' | b'{' => {
                    self.depth += 1;
                    self.element.push(b);
                }
                b']' if self.depth == 0 => {
                    self.end_element(out, true)?;
                    self.done = true;
                }
                b']' | b'}' => {
                    if self.depth == 0 {
                        return Err(self.malformed("an unmatched '}'"));
                    }
                    self.depth -= 1;
                    self.element.push(b);
                }
                b',' if self.depth == 0 => {
                    self.end_element(out, false)?;
                    self.after_comma = true;
                }
                _ => self.element.push(b),
            }
        }
        Ok(())
    }

    fn end_element(&mut self, out: &mut Vec<Value>, closing: bool) -> Result<(), ReadError> {
        let empty = self.element.iter().all(u8::is_ascii_whitespace);
        if empty {
            // `[]` is an empty array; `[,` `[1,]` `[1,,2]` are not JSON.
            if self.after_comma || !closing || self.elements > 0 {
                return Err(self.malformed("an empty element"));
            }
            return Ok(());
        }
        match value::parse_slice(&self.element) {
            Ok(v) => out.push(v),
            Err(e) => return Err(self.malformed(&e.to_string())),
        }
        self.elements += 1;
        self.element.clear();
        self.after_comma = false;
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<Value>) -> Result<(), ReadError> {
        if !self.started {
            return Err(ReadError(
                "The JSON file must hold a JSON array of items at its top level".into(),
            ));
        }
        if !self.done {
            return Err(self.malformed("the top-level array is not closed"));
        }
        Ok(())
    }
}

struct CsvState {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    out_len: usize,
    ends_len: usize,
    /// `CSVHeaders`, or the first row once read.
    headers: Option<Vec<String>>,
    row: u64,
}

impl CsvState {
    fn push(&mut self, mut input: &[u8], eof: bool, out: &mut Vec<Value>) -> Result<(), ReadError> {
        use csv_core::ReadRecordResult as R;
        loop {
            let (res, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.out[self.out_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[nin..];
            self.out_len += nout;
            self.ends_len += nend;
            match res {
                R::InputEmpty => {
                    if !eof {
                        return Ok(());
                    }
                }
                R::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                R::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                R::Record => {
                    self.record(out)?;
                    self.out_len = 0;
                    self.ends_len = 0;
                }
                R::End => return Ok(()),
            }
        }
    }

    fn record(&mut self, out: &mut Vec<Value>) -> Result<(), ReadError> {
        self.row += 1;
        let data = &self.out[..self.out_len];
        let mut fields = Vec::with_capacity(self.ends_len);
        let mut start = 0;
        for &end in &self.ends[..self.ends_len] {
            let text = std::str::from_utf8(&data[start..end]).map_err(|_| {
                ReadError(format!(
                    "The CSV file is malformed: row {} is not valid UTF-8",
                    self.row
                ))
            })?;
            fields.push(text);
            start = end;
        }
        let Some(headers) = &self.headers else {
            self.headers = Some(fields.into_iter().map(str::to_string).collect());
            return Ok(());
        };
        let mut m = Map::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            let v = fields.get(i).copied().unwrap_or("");
            m.insert(Str::from(h.as_str()), Value::str(v));
        }
        out.push(Value::object(m));
        Ok(())
    }
}

/// One iteration, for the result files.
#[derive(Debug, Clone)]
pub struct ChildRecord {
    /// The iteration's execution name.
    pub name: String,
    /// The iteration's input.
    pub input: Value,
    /// The output, or (error, cause).
    pub outcome: Result<Value, (Option<String>, Option<String>)>,
    /// When the iteration started.
    pub start: std::time::SystemTime,
    /// When the iteration ended.
    pub stop: std::time::SystemTime,
}

/// Names of a Map Run: its ARN and the ARNs its iterations show.
#[derive(Debug, Clone)]
pub struct MapRunNames {
    /// `arn:aws:states:<region>:<account>:mapRun:<machine>/<map>:<id>`.
    pub map_run_arn: String,
    /// The `<id>` of the ARN.
    pub id: String,
    /// `arn:aws:states:<region>:<account>:stateMachine:<machine>/<map>`.
    pub state_machine_arn: String,
    /// `arn:aws:states:<region>:<account>:execution:<machine>/<map>:` (an iteration's name
    /// follows).
    pub execution_prefix: String,
}

impl MapRunNames {
    /// Names for a run of the Map state `map` (its `Label` when it has one) of the execution
    /// `execution_arn` of the machine `machine`.
    pub fn new(execution_arn: &str, machine: &str, map: &str) -> MapRunNames {
        let parts: Vec<&str> = execution_arn.split(':').collect();
        let partition = parts.get(1).copied().unwrap_or("aws");
        let region = parts.get(3).copied().unwrap_or("us-east-1");
        let account = parts.get(4).copied().unwrap_or("123456789012");
        let id = uuid::Uuid::new_v4().to_string();
        let base = format!("arn:{partition}:states:{region}:{account}");
        MapRunNames {
            map_run_arn: format!("{base}:mapRun:{machine}/{map}:{id}"),
            state_machine_arn: format!("{base}:stateMachine:{machine}/{map}"),
            execution_prefix: format!("{base}:execution:{machine}/{map}:"),
            id,
        }
    }
}

/// `WriterConfig`'s `Transformation`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transformation {
    /// The iteration's whole record (ARN, input, output, status, dates).
    None,
    /// The output alone.
    Compact,
    /// The output alone, arrays spread into their elements.
    Flatten,
}

/// `Transformation` and whether the files are JSON Lines (`OutputType` `JSONL`).
pub fn writer_config(config: &Value, exporting: bool) -> Result<(Transformation, bool), String> {
    let t = match config.get("Transformation").and_then(Value::as_str) {
        None if exporting => Transformation::None,
        None => Transformation::Compact,
        Some("NONE") => Transformation::None,
        Some("COMPACT") => Transformation::Compact,
        Some("FLATTEN") => Transformation::Flatten,
        Some(other) => return Err(format!("Transformation '{other}' is not supported")),
    };
    let jsonl = match config.get("OutputType").and_then(Value::as_str) {
        None | Some("JSON") => false,
        Some("JSONL") => true,
        Some(other) => return Err(format!("OutputType '{other}' is not supported")),
    };
    Ok((t, jsonl))
}

/// An iteration's record as `Transformation` shows it (a failed one always in whole).
pub fn transform(rec: &ChildRecord, names: &MapRunNames, t: Transformation, out: &mut Vec<Value>) {
    match (&rec.outcome, t) {
        (Ok(v), Transformation::Compact) => out.push(v.clone()),
        (Ok(Value::Array(a)), Transformation::Flatten) => out.extend(a.iter().cloned()),
        (Ok(v), Transformation::Flatten) => out.push(v.clone()),
        _ => out.push(full_record(rec, names)),
    }
}

fn full_record(rec: &ChildRecord, names: &MapRunNames) -> Value {
    let included = || {
        let mut m = Map::new();
        m.insert(Str::from("Included"), Value::Bool(true));
        Value::object(m)
    };
    let date = |t: std::time::SystemTime| Value::from(crate::vm::time::iso_millis(t));
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(Str::from(k), v);
    };
    put(
        "ExecutionArn",
        Value::from(format!("{}{}", names.execution_prefix, rec.name).as_str()),
    );
    put("Input", Value::from(rec.input.to_json().as_str()));
    put("InputDetails", included());
    put("Name", Value::from(rec.name.as_str()));
    match &rec.outcome {
        Ok(v) => {
            put("Output", Value::from(v.to_json().as_str()));
            put("OutputDetails", included());
            put("RedriveCount", Value::int(0));
            put("RedriveStatus", Value::str("NOT_REDRIVABLE"));
            put(
                "RedriveStatusReason",
                Value::str("Execution is SUCCEEDED and cannot be redriven"),
            );
        }
        Err((error, cause)) => {
            if let Some(e) = error {
                put("Error", Value::str(e));
            }
            if let Some(c) = cause {
                put("Cause", Value::str(c));
            }
            put("RedriveCount", Value::int(0));
            put("RedriveStatus", Value::str("REDRIVABLE_BY_MAP_RUN"));
        }
    }
    put("StartDate", date(rec.start));
    put(
        "StateMachineArn",
        Value::from(names.state_machine_arn.as_str()),
    );
    put(
        "Status",
        Value::str(if rec.outcome.is_ok() {
            "SUCCEEDED"
        } else {
            "FAILED"
        }),
    );
    put("StopDate", date(rec.stop));
    Value::object(m)
}

/// Writes `SUCCEEDED_0.json`/`FAILED_0.json` (those that have entries) and `manifest.json`
/// under `<Prefix>/<map run id>/`, and returns the Map's output: `MapRunArn` and
/// `ResultWriterDetails`. Errors are the cause of `States.ResultWriterFailed`.
pub async fn write_results(
    store: &dyn ObjectStore,
    params: &Value,
    config: &Value,
    names: &MapRunNames,
    records: &[ChildRecord],
) -> Result<Value, String> {
    let bucket = match params.get("Bucket") {
        Some(Value::String(b)) if !b.is_empty() => b.to_string(),
        _ => return Err("The ResultWriter's parameters must name a Bucket".into()),
    };
    let prefix = match params.get("Prefix") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(p)) => p.trim_end_matches('/').to_string(),
        Some(other) => {
            return Err(format!(
                "The ResultWriter's Prefix must be a string, but was: {}",
                other.to_json()
            ));
        }
    };
    let (t, jsonl) = writer_config(config, true)?;
    let dir = if prefix.is_empty() {
        names.id.clone()
    } else {
        format!("{prefix}/{}", names.id)
    };
    let ext = if jsonl { "jsonl" } else { "json" };
    let mut files: Map = Map::new();
    for (status, ok) in [("FAILED", false), ("PENDING", false), ("SUCCEEDED", true)] {
        let mut entries = Vec::new();
        if status != "PENDING" {
            for rec in records.iter().filter(|r| r.outcome.is_ok() == ok) {
                transform(rec, names, t, &mut entries);
            }
        }
        let mut listed = Vec::new();
        if !entries.is_empty() {
            let body = if jsonl {
                let mut s = String::new();
                for e in &entries {
                    e.write_json(&mut s);
                    s.push('\n');
                }
                s
            } else {
                Value::array(entries).to_json()
            };
            let key = format!("{dir}/{status}_0.{ext}");
            let size = body.len();
            store
                .put(bucket.clone(), key.clone(), body.into_bytes())
                .await
                .map_err(|e| e.cause.unwrap_or(e.error))?;
            let mut f = Map::new();
            f.insert(Str::from("Key"), Value::from(key.as_str()));
            f.insert(Str::from("Size"), Value::int(size as i64));
            listed.push(Value::object(f));
        }
        files.insert(Str::from(status), Value::array(listed));
    }
    let mut manifest = Map::new();
    manifest.insert(Str::from("DestinationBucket"), Value::from(bucket.as_str()));
    manifest.insert(
        Str::from("MapRunArn"),
        Value::from(names.map_run_arn.as_str()),
    );
    manifest.insert(Str::from("ResultFiles"), Value::object(files));
    let key = format!("{dir}/manifest.json");
    store
        .put(
            bucket.clone(),
            key.clone(),
            Value::object(manifest).to_json().into_bytes(),
        )
        .await
        .map_err(|e| e.cause.unwrap_or(e.error))?;
    let mut details = Map::new();
    details.insert(Str::from("Bucket"), Value::from(bucket.as_str()));
    details.insert(Str::from("Key"), Value::from(key.as_str()));
    let mut out = Map::new();
    out.insert(
        Str::from("MapRunArn"),
        Value::from(names.map_run_arn.as_str()),
    );
    out.insert(Str::from("ResultWriterDetails"), Value::object(details));
    Ok(Value::object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(
        input_type: &str,
        headers: Option<Vec<String>>,
        text: &str,
        chunk: usize,
    ) -> Result<Vec<String>, ReadError> {
        let mut p = ItemParser::for_input(input_type, headers).expect("a format");
        let mut out = Vec::new();
        for c in text.as_bytes().chunks(chunk.max(1)) {
            p.push(c, &mut out)?;
        }
        p.finish(&mut out)?;
        Ok(out.iter().map(Value::to_json).collect())
    }

    #[test]
    fn json_arrays_split_at_any_chunk_size() {
        let text = r#" [ {"a": "x,]}"}, [1, [2]], "s\"]", 3 , null ] "#;
        for chunk in [1, 2, 3, 7, 100] {
            assert_eq!(
                parse_all("JSON", None, text, chunk).unwrap(),
                vec![r#"{"a":"x,]}"}"#, "[1,[2]]", r#""s\"]""#, "3", "null"],
                "chunk {chunk}"
            );
        }
        assert_eq!(
            parse_all("JSON", None, "[]", 1).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn malformed_json_fails() {
        for bad in [
            r#"{"a":1}"#,
            "[1,,2]",
            "[1,]",
            "[1",
            "[1] x",
            "[{]",
            "[tru]",
            "",
        ] {
            assert!(parse_all("JSON", None, bad, 3).is_err(), "{bad}");
        }
    }

    #[test]
    fn jsonl_lines_and_errors() {
        let text = "{\"a\":1}\r\n\n[2]\n\"x\"";
        for chunk in [1, 4, 100] {
            assert_eq!(
                parse_all("JSONL", None, text, chunk).unwrap(),
                vec![r#"{"a":1}"#, "[2]", r#""x""#]
            );
        }
        let e = parse_all("JSONL", None, "{}\n{bad\n", 100).unwrap_err();
        assert!(e.0.contains("line 2"), "{e:?}");
    }

    #[test]
    fn csv_first_row_given_headers_quoting_and_ragged_rows() {
        let text = "Col1,Col2\nValue1,\"a,\"\"b\"\"\r\nc\"\n,,,\n   \n";
        for chunk in [1, 5, 100] {
            assert_eq!(
                parse_all("CSV", None, text, chunk).unwrap(),
                vec![
                    r#"{"Col1":"Value1","Col2":"a,\"b\"\r\nc"}"#,
                    r#"{"Col1":"","Col2":""}"#,
                    r#"{"Col1":"   ","Col2":""}"#
                ]
            );
        }
        let given = Some(vec!["H1".to_string(), "H2".to_string()]);
        assert_eq!(
            parse_all("CSV", given, "a,b\nc", 2).unwrap(),
            vec![r#"{"H1":"a","H2":"b"}"#, r#"{"H1":"c","H2":""}"#]
        );
    }
}
