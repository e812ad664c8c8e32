//! Checks of one state: its `Type`, which fields that type accepts in which query language, the
//! terminal rules (`Next`/`End`), and the typed fields of each state type.

use serde_json::{Map, Value};

use super::codes::*;
use super::syntax;
use super::validate::{Checker, Lang, PathKind, Scope};

/// The eight state types, in the order AWS lists them in its message.
const TYPES: &[&str] = &[
    "Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map",
];

/// Which query language a field belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    Both,
    JsonPath,
    Jsonata,
}

const FLOW: &[&str] = &["Pass", "Task", "Wait", "Parallel", "Map"];
const NOT_FAIL: &[&str] = &[
    "Pass", "Task", "Wait", "Parallel", "Map", "Choice", "Succeed",
];
const ASSIGNS: &[&str] = &["Pass", "Task", "Wait", "Parallel", "Map", "Choice"];
const RESULTS: &[&str] = &["Pass", "Task", "Parallel", "Map"];
const HANDLES: &[&str] = &["Task", "Parallel", "Map"];
const ALL: &[&str] = TYPES;

/// Every state field: the types that accept it and its query language.
const FIELDS: &[(&str, &[&str], Only)] = &[
    ("Type", ALL, Only::Both),
    ("Comment", ALL, Only::Both),
    ("QueryLanguage", ALL, Only::Both),
    ("Next", FLOW, Only::Both),
    ("End", FLOW, Only::Both),
    ("InputPath", NOT_FAIL, Only::JsonPath),
    ("OutputPath", NOT_FAIL, Only::JsonPath),
    ("Output", NOT_FAIL, Only::Jsonata),
    ("Assign", ASSIGNS, Only::Both),
    ("Parameters", RESULTS, Only::JsonPath),
    ("ResultPath", RESULTS, Only::JsonPath),
    ("ResultSelector", HANDLES, Only::JsonPath),
    ("Arguments", &["Task", "Parallel"], Only::Jsonata),
    ("Result", &["Pass"], Only::JsonPath),
    ("Retry", HANDLES, Only::Both),
    ("Catch", HANDLES, Only::Both),
    ("Resource", &["Task"], Only::Both),
    ("TimeoutSeconds", &["Task"], Only::Both),
    ("TimeoutSecondsPath", &["Task"], Only::JsonPath),
    ("HeartbeatSeconds", &["Task"], Only::Both),
    ("HeartbeatSecondsPath", &["Task"], Only::JsonPath),
    ("Credentials", &["Task"], Only::Both),
    ("Choices", &["Choice"], Only::Both),
    ("Default", &["Choice"], Only::Both),
    ("Seconds", &["Wait"], Only::Both),
    ("Timestamp", &["Wait"], Only::Both),
    ("SecondsPath", &["Wait"], Only::JsonPath),
    ("TimestampPath", &["Wait"], Only::JsonPath),
    ("Error", &["Fail"], Only::Both),
    ("Cause", &["Fail"], Only::Both),
    ("ErrorPath", &["Fail"], Only::JsonPath),
    ("CausePath", &["Fail"], Only::JsonPath),
    ("Branches", &["Parallel"], Only::Both),
    ("ItemProcessor", &["Map"], Only::Both),
    ("Iterator", &["Map"], Only::Both),
    ("ItemsPath", &["Map"], Only::JsonPath),
    ("Items", &["Map"], Only::Jsonata),
    ("ItemSelector", &["Map"], Only::Both),
    ("ItemReader", &["Map"], Only::Both),
    ("ItemBatcher", &["Map"], Only::Both),
    ("ResultWriter", &["Map"], Only::Both),
    ("MaxConcurrency", &["Map"], Only::Both),
    ("MaxConcurrencyPath", &["Map"], Only::JsonPath),
    ("ToleratedFailureCount", &["Map"], Only::Both),
    ("ToleratedFailureCountPath", &["Map"], Only::JsonPath),
    ("ToleratedFailurePercentage", &["Map"], Only::Both),
    ("ToleratedFailurePercentagePath", &["Map"], Only::JsonPath),
    ("Label", &["Map"], Only::Both),
];

/// Largest integer AWS accepts for seconds and counts.
const MAX_SECONDS: i64 = 99_999_999;

/// Longest Map `Label`.
const MAX_LABEL: usize = 40;

impl Checker {
    /// One state at `loc`; `siblings` are the states of its container (transition targets).
    pub(super) fn state(
        &mut self,
        v: &Value,
        loc: &str,
        siblings: &Map<String, Value>,
        top: Lang,
        depth: usize,
    ) {
        let Some(obj) = self.object(v, loc) else {
            return;
        };
        let Some(type_v) = obj.get("Type") else {
            self.required(loc, "Type");
            return;
        };
        let Some(kind) = type_v.as_str().filter(|t| TYPES.contains(t)) else {
            self.schema(
                &format!("{loc}/Type"),
                "The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]",
            );
            return;
        };
        let (lang, downgraded) = self.state_language(obj, loc, top);
        self.allowed_fields(obj, loc, kind, lang, downgraded);
        self.required_fields(obj, loc, kind);
        self.terminal_rules(obj, loc, kind, siblings);
        let at = |f: &str| format!("{loc}/{f}");
        let field = |f: &str| obj.get(f).filter(|_| field_in_lang(f, lang));
        if let Some(v) = obj.get("Comment") {
            self.string(v, &at("Comment"));
        }
        for f in ["InputPath", "OutputPath"] {
            if let Some(v) = field(f) {
                self.path(v, &at(f), PathKind::NullablePath);
            }
        }
        if let Some(v) = field("ResultPath") {
            self.path(v, &at("ResultPath"), PathKind::Result);
        }
        for f in ["Parameters", "ResultSelector"] {
            if let Some(v) = field(f) {
                self.object(v, &at(f));
                self.template(v, &at(f));
            }
        }
        for f in ["Output", "Arguments"] {
            if let Some(v) = field(f) {
                self.jsonata_strings(v, &at(f), 0);
            }
        }
        if let Some(v) = obj.get("Assign") {
            self.assign(v, &at("Assign"), lang);
        }
        if let Some(v) = obj.get("Retry") {
            self.retriers(v, &at("Retry"));
        }
        if let Some(v) = obj.get("Catch") {
            self.catchers(v, &at("Catch"), lang, siblings);
        }
        match kind {
            "Pass" => self.pass(obj, loc),
            "Task" => self.task(obj, loc, lang),
            "Choice" => self.choice(obj, loc, lang, siblings),
            "Wait" => self.wait(obj, loc, lang),
            "Fail" => self.fail(obj, loc, lang),
            "Parallel" => self.parallel(obj, loc, top, depth),
            "Map" => self.map(obj, loc, lang, top, depth),
            _ => {}
        }
    }

    /// The state's effective language, and whether it illegally downgrades a JSONata machine.
    fn state_language(&mut self, obj: &Map<String, Value>, loc: &str, top: Lang) -> (Lang, bool) {
        let Some(v) = obj.get("QueryLanguage") else {
            return (top, false);
        };
        self.query_language_value(v, &format!("{loc}/QueryLanguage"));
        if v.as_str() != Some("JSONPath") {
            return (Lang::Jsonata, false);
        }
        if top == Lang::Jsonata {
            self.schema(
                loc,
                "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
            );
            return (Lang::JsonPath, true);
        }
        (Lang::JsonPath, false)
    }

    fn allowed_fields(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        kind: &str,
        lang: Lang,
        downgraded: bool,
    ) {
        for key in obj.keys() {
            let Some((_, types, only)) = FIELDS.iter().find(|(f, _, _)| f == key) else {
                self.unsupported(loc, key);
                continue;
            };
            if !types.contains(&kind) {
                self.unsupported(loc, key);
            } else if !downgraded && !only_allows(*only, lang) {
                self.wrong_language(loc, lang, key);
            }
        }
    }

    fn required_fields(&mut self, obj: &Map<String, Value>, loc: &str, kind: &str) {
        let required = match kind {
            "Task" => "Resource",
            "Choice" => "Choices",
            "Parallel" => "Branches",
            "Map" if !obj.contains_key("Iterator") && !obj.contains_key("ItemProcessor") => {
                return self.schema(
                    loc,
                    "This object should have only one of the following fields: [ItemProcessor, Iterator]",
                );
            }
            _ => return,
        };
        if !obj.contains_key(required) {
            self.required(loc, required);
        }
    }

    /// `Next` xor `End: true` on Pass/Task/Wait/Parallel/Map; Choice checks its own targets.
    fn terminal_rules(
        &mut self,
        obj: &Map<String, Value>,
        loc: &str,
        kind: &str,
        siblings: &Map<String, Value>,
    ) {
        if !FLOW.contains(&kind) {
            return;
        }
        let end = obj
            .get("End")
            .and_then(|v| self.boolean(v, &format!("{loc}/End")))
            == Some(true);
        match obj.get("Next") {
            Some(next) => {
                if end {
                    self.schema(
                        loc,
                        "There should only be one of the following fields: [Next, End]",
                    );
                }
                self.target(next, &format!("{loc}/Next"), siblings);
            }
            None if !end => self.schema(
                loc,
                "This object should have only one of the following fields: [Next, End]",
            ),
            None => {}
        }
    }

    /// An integer field, or (in JSONata) a `{% … %}` expression yielding one.
    fn int_or_jsonata(
        &mut self,
        v: &Value,
        loc: &str,
        min: i64,
        max: i64,
        lang: Lang,
    ) -> Option<i64> {
        match v.as_str() {
            Some(s) if lang == Lang::Jsonata && syntax::jsonata_body(s).is_some() => {
                self.jsonata_string(s, loc);
                None
            }
            _ => self.int_in(v, loc, min, max),
        }
    }

    /// A string field, or (in JSONata) a `{% … %}` expression.
    fn string_or_jsonata(&mut self, v: &Value, loc: &str, lang: Lang) -> Option<String> {
        let s = self.string(v, loc)?;
        if lang == Lang::Jsonata && s.starts_with("{%") {
            self.jsonata_string(s, loc);
            return None;
        }
        Some(s.to_string())
    }

    /// At most one of `literal` and `path` (e.g. `TimeoutSeconds` / `TimeoutSecondsPath`).
    fn exclusive(&mut self, obj: &Map<String, Value>, loc: &str, literal: &str, path: &str) {
        if obj.contains_key(literal) && obj.contains_key(path) {
            self.schema(
                &format!("{loc}/{path}"),
                format!("There should only be one of the following fields: [{literal}, {path}]"),
            );
        }
    }

    fn pass(&mut self, obj: &Map<String, Value>, loc: &str) {
        if let Some(Value::String(s)) = obj.get("Result")
            && s.starts_with('$')
        {
            self.warn(
                PASS_RESULT_IS_STATIC,
                &format!("{loc}/Result"),
                "The Result of a Pass state is static: a path in it is not evaluated",
            );
        }
    }

    fn task(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang) {
        let at = |f: &str| format!("{loc}/{f}");
        if let Some(v) = obj.get("Resource")
            && let Some(r) = self.string(v, &at("Resource"))
        {
            if !is_arn(r) {
                self.not_an_arn(&at("Resource"));
            } else if !integration_pattern_exists(r) {
                self.schema(
                    &at("Resource"),
                    format!("The resource provided {r} is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."),
                );
            }
        }
        self.exclusive(obj, loc, "TimeoutSeconds", "TimeoutSecondsPath");
        self.exclusive(obj, loc, "HeartbeatSeconds", "HeartbeatSecondsPath");
        let timeout = obj
            .get("TimeoutSeconds")
            .and_then(|v| self.int_or_jsonata(v, &at("TimeoutSeconds"), 1, MAX_SECONDS, lang));
        let heartbeat = obj
            .get("HeartbeatSeconds")
            .and_then(|v| self.int_or_jsonata(v, &at("HeartbeatSeconds"), 1, MAX_SECONDS, lang));
        if let (Some(t), Some(h)) = (timeout, heartbeat)
            && h >= t
        {
            self.schema(&at("HeartbeatSeconds"), "The value of the field 'HeartbeatSeconds' must be smaller than the value of the field 'TimeoutSeconds'");
        }
        for f in ["TimeoutSecondsPath", "HeartbeatSecondsPath"] {
            if let Some(v) = obj.get(f).filter(|_| lang == Lang::JsonPath) {
                self.path(v, &at(f), PathKind::Reference);
            }
        }
        // AWS leaves `{% %}` strings in Credentials alone at creation time, so do we.
        if let Some(v) = obj.get("Credentials")
            && let Some(cred) = self.object(v, &at("Credentials"))
        {
            if !cred.contains_key("RoleArn") && !cred.contains_key("RoleArn.$") {
                self.schema(
                    &at("Credentials"),
                    "The field 'RoleArn' is required but was missing",
                );
            }
            if lang == Lang::JsonPath {
                self.template(v, &at("Credentials"));
            }
        }
    }

    fn wait(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang) {
        let at = |f: &str| format!("{loc}/{f}");
        let given = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
            .iter()
            .filter(|f| obj.contains_key(**f))
            .count();
        let fields = "[SecondsPath, Seconds, TimestampPath, Timestamp]";
        if given == 0 {
            self.schema(
                loc,
                format!("This object should have only one of the following fields: {fields}"),
            );
        } else if given > 1 {
            self.schema(
                loc,
                format!("There should only be one of the following fields: {fields}"),
            );
        }
        if let Some(v) = obj.get("Seconds") {
            self.int_or_jsonata(v, &at("Seconds"), 0, MAX_SECONDS, lang);
        }
        if let Some(v) = obj.get("Timestamp")
            && let Some(s) = self.string_or_jsonata(v, &at("Timestamp"), lang)
            && !is_timestamp(&s)
        {
            self.not_a_timestamp(&at("Timestamp"));
        }
        for f in ["SecondsPath", "TimestampPath"] {
            if let Some(v) = obj.get(f).filter(|_| lang == Lang::JsonPath) {
                self.path(v, &at(f), PathKind::Reference);
            }
        }
    }

    fn fail(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang) {
        let at = |f: &str| format!("{loc}/{f}");
        self.exclusive(obj, loc, "Error", "ErrorPath");
        self.exclusive(obj, loc, "Cause", "CausePath");
        for f in ["Error", "Cause"] {
            if let Some(v) = obj.get(f) {
                self.string_or_jsonata(v, &at(f), lang);
            }
        }
        for f in ["ErrorPath", "CausePath"] {
            if let Some(v) = obj.get(f).filter(|_| lang == Lang::JsonPath) {
                self.path(v, &at(f), PathKind::ReferenceOrIntrinsic);
            }
        }
    }

    fn parallel(&mut self, obj: &Map<String, Value>, loc: &str, top: Lang, depth: usize) {
        let Some(v) = obj.get("Branches") else { return };
        let Some(branches) = self.array(v, &format!("{loc}/Branches")) else {
            return;
        };
        if branches.is_empty() {
            self.empty(&format!("{loc}/Branches"));
        }
        for (i, b) in branches.iter().enumerate() {
            self.definition(
                b,
                &format!("{loc}/Branches[{i}]"),
                Scope::Branch,
                top,
                depth + 1,
            );
        }
    }

    fn map(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang, top: Lang, depth: usize) {
        let at = |f: &str| format!("{loc}/{f}");
        self.exclusive(obj, loc, "ItemProcessor", "Iterator");
        for f in ["ItemProcessor", "Iterator"] {
            if let Some(v) = obj.get(f) {
                self.definition(v, &at(f), Scope::Processor, top, depth + 1);
            }
        }
        if let Some(v) = obj.get("ItemsPath").filter(|_| lang == Lang::JsonPath) {
            self.path(v, &at("ItemsPath"), PathKind::Reference);
        }
        if let Some(v) = obj.get("Items").filter(|_| lang == Lang::Jsonata) {
            match v {
                Value::Array(_) => self.jsonata_strings(v, &at("Items"), 0),
                Value::String(s) if syntax::jsonata_body(s).is_some() => {
                    self.jsonata_string(s, &at("Items"))
                }
                _ => self.schema(
                    &at("Items"),
                    "The field 'Items' must be a JSON array or a JSONata expression",
                ),
            }
        }
        if let Some(v) = obj.get("ItemSelector") {
            match lang {
                Lang::JsonPath => {
                    self.object(v, &at("ItemSelector"));
                    self.template(v, &at("ItemSelector"));
                }
                Lang::Jsonata => self.jsonata_strings(v, &at("ItemSelector"), 0),
            }
        }
        self.map_limits(obj, loc, lang);
        for (f, fields) in [
            (
                "ItemReader",
                &["Resource", "ReaderConfig", "Parameters", "Arguments"][..],
            ),
            (
                "ItemBatcher",
                &[
                    "MaxItemsPerBatch",
                    "MaxItemsPerBatchPath",
                    "MaxInputBytesPerBatch",
                    "MaxInputBytesPerBatchPath",
                    "BatchInput",
                ][..],
            ),
            (
                "ResultWriter",
                &["Resource", "Parameters", "Arguments", "WriterConfig"][..],
            ),
        ] {
            if let Some(v) = obj.get(f) {
                self.map_config(v, &at(f), fields, lang);
            }
        }
        if let Some(v) = obj.get("Label")
            && let Some(label) = self.string(v, &at("Label"))
            && (label.chars().count() > MAX_LABEL
                || label
                    .chars()
                    .any(|c| c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)))
        {
            self.err(INVALID_LABEL_NAME, &at("Label"), format!("The label '{label}' is not valid: at most {MAX_LABEL} characters, no whitespace or special characters"));
        }
    }

    /// MaxConcurrency and the Tolerated* fields, each exclusive with its `*Path` twin.
    fn map_limits(&mut self, obj: &Map<String, Value>, loc: &str, lang: Lang) {
        let at = |f: &str| format!("{loc}/{f}");
        for (literal, path) in [
            ("MaxConcurrency", "MaxConcurrencyPath"),
            ("ToleratedFailureCount", "ToleratedFailureCountPath"),
            (
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            ),
        ] {
            self.exclusive(obj, loc, literal, path);
            if let Some(v) = obj.get(path).filter(|_| lang == Lang::JsonPath) {
                self.path(v, &at(path), PathKind::Reference);
            }
        }
        if let Some(v) = obj.get("MaxConcurrency") {
            self.int_or_jsonata(v, &at("MaxConcurrency"), 0, i64::MAX, lang);
        }
        if let Some(v) = obj.get("ToleratedFailureCount") {
            self.int_or_jsonata(v, &at("ToleratedFailureCount"), 0, i64::MAX, lang);
        }
        if let Some(v) = obj.get("ToleratedFailurePercentage") {
            let loc = at("ToleratedFailurePercentage");
            match v.as_str() {
                Some(s) if lang == Lang::Jsonata && syntax::jsonata_body(s).is_some() => {
                    self.jsonata_string(s, &loc)
                }
                _ => {
                    self.number_in(v, &loc, 0.0, 100.0);
                }
            }
        }
    }

    /// ItemReader / ItemBatcher / ResultWriter: an object of known fields whose payloads are
    /// templates (JSONPath) or hold JSONata expressions.
    fn map_config(&mut self, v: &Value, loc: &str, fields: &[&str], lang: Lang) {
        let Some(obj) = self.object(v, loc) else {
            return;
        };
        for (key, val) in obj {
            let here = format!("{loc}/{key}");
            if !fields.contains(&key.as_str()) {
                self.unsupported(loc, key);
            } else if key == "Parameters" && lang == Lang::Jsonata
                || key == "Arguments" && lang == Lang::JsonPath
            {
                self.schema(
                    &here,
                    format!(
                        "The field '{key}' is not supported for the '{}' QueryLanguage",
                        lang.name()
                    ),
                );
            } else if key == "Resource" {
                let reader = loc.ends_with("/ItemReader");
                match self.string(val, &here) {
                    Some(r) if !is_arn(r) => self.not_an_arn(&here),
                    Some(r) if reader && !is_item_reader_resource(r) => self.schema(
                        &here,
                        "The field 'Resource' does not match any of the allowed values. Examples: [arn:<partition>:states:::s3:getObject, arn:<partition>:states:::s3:listObjectsV2]",
                    ),
                    _ => {}
                }
            } else if key == "ReaderConfig" {
                self.reader_config(val, &here, lang);
            } else if lang == Lang::Jsonata {
                self.jsonata_strings(val, &here, 0);
            } else if key == "Parameters" || key == "BatchInput" {
                self.template(val, &here);
            } else if key.ends_with("Path") {
                self.path(val, &here, PathKind::Reference);
            }
        }
    }
}

impl Checker {
    /// `ItemReader.ReaderConfig`: the input type and the CSV header rules.
    fn reader_config(&mut self, v: &Value, loc: &str, lang: Lang) {
        let Some(cfg) = self.object(v, loc) else {
            return;
        };
        let at = |f: &str| format!("{loc}/{f}");
        let input_type = cfg.get("InputType").and_then(Value::as_str);
        if let Some(t) = cfg.get("InputType") {
            self.one_of(
                t,
                &at("InputType"),
                &["MANIFEST", "JSON", "CSV", "JSONL", "PARQUET"],
            );
        }
        if let Some(h) = cfg.get("CSVHeaderLocation") {
            if input_type == Some("JSON") {
                self.unsupported(&at("CSVHeaderLocation"), "CSVHeaderLocation");
            }
            self.one_of(h, &at("CSVHeaderLocation"), &["FIRST_ROW", "GIVEN"]);
        } else if input_type == Some("CSV") {
            self.schema(loc, "The field 'CSVHeaderLocation' is required");
        }
        if cfg.get("CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN")
            && !cfg.contains_key("CSVHeaders")
        {
            self.required(loc, "CSVHeaders");
        }
        if let Some(v) = cfg.get("MaxItems") {
            match v.as_str() {
                Some(s) if lang == Lang::Jsonata && syntax::jsonata_body(s).is_some() => {
                    self.jsonata_string(s, &at("MaxItems"))
                }
                _ => {
                    self.int_in(v, &at("MaxItems"), 0, 100_000_000);
                }
            }
        }
        if let Some(v) = cfg.get("MaxItemsPath").filter(|_| lang == Lang::JsonPath) {
            self.path(v, &at("MaxItemsPath"), PathKind::Reference);
        }
    }
}

/// An RFC 3339 timestamp as AWS writes them: `2016-03-14T01:59:00Z`, upper-case `T`.
pub(super) fn is_timestamp(s: &str) -> bool {
    s.as_bytes().get(10) == Some(&b'T') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// Optimized integrations whose service never offers the `.sync` (run a job) or
/// `.waitForTaskToken` (callback) pattern; AWS does not recognize such a resource.
const NO_SYNC: &[&str] = &[
    "lambda",
    "sns",
    "sqs",
    "dynamodb",
    "events",
    "apigateway",
    "aws-sdk",
];
const NO_CALLBACK: &[&str] = &[
    "athena",
    "batch",
    "codebuild",
    "elasticmapreduce",
    "emr-containers",
    "emr-serverless",
    "glue",
    "databrew",
    "mediaconvert",
    "sagemaker",
    "dynamodb",
];

/// Whether an `arn:…:states:::service:api[.pattern]` resource names a pattern its service has.
fn integration_pattern_exists(r: &str) -> bool {
    let parts: Vec<&str> = r.splitn(6, ':').collect();
    let ["arn", _, "states", "", "", rest] = parts.as_slice() else {
        return true;
    };
    let service = rest.split(':').next().unwrap_or_default();
    if rest.ends_with(".sync:2") {
        return service == "states";
    }
    if rest.ends_with(".sync") {
        return !NO_SYNC.contains(&service);
    }
    if rest.ends_with(".waitForTaskToken") {
        return !NO_CALLBACK.contains(&service);
    }
    true
}

/// The two S3 reads a Distributed Map's `ItemReader` can use.
fn is_item_reader_resource(r: &str) -> bool {
    let mut parts = r.splitn(6, ':');
    let (arn, _partition, service, region, account, api) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    );
    arn == Some("arn")
        && service == Some("states")
        && region == Some("")
        && account == Some("")
        && matches!(api, Some("s3:getObject" | "s3:listObjectsV2"))
}

fn only_allows(only: Only, lang: Lang) -> bool {
    match only {
        Only::Both => true,
        Only::JsonPath => lang == Lang::JsonPath,
        Only::Jsonata => lang == Lang::Jsonata,
    }
}

/// Whether field `f` belongs to (or is shared by) `lang`: wrong-language fields are reported once
/// by `allowed_fields` and their values are not checked further.
fn field_in_lang(f: &str, lang: Lang) -> bool {
    FIELDS
        .iter()
        .find(|(name, _, _)| *name == f)
        .is_some_and(|(_, _, only)| only_allows(*only, lang))
}

/// `arn:partition:service:region:account:resource`, the shape every Task resource has.
fn is_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}
