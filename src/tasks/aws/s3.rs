//! Amazon S3 over REST-XML: `aws-sdk:s3:*` Tasks and the [`ObjectStore`] that Distributed Map's
//! `ItemReader`/`ResultWriter` read and write through.
//!
//! Addressing: path-style (`<endpoint>/<bucket>/<key>`) when S3's endpoint is explicit (an
//! emulator such as moto, a proxy), virtual-hosted (`https://<bucket>.s3.<region>.amazonaws.com/<key>`)
//! at AWS, except for bucket names with dots, which TLS certificates do not cover.
//!
//! Results are what Step Functions shows for `aws-sdk:s3:<action>`: the SDK v2 response's
//! members in PascalCase (`Body` as a string, `ContentLength` a number, `LastModified` an ISO
//! 8601 date, user metadata in `Metadata`); errors `S3.<Code>Exception` for the codes the SDK
//! models (`S3.NoSuchKeyException`, `S3.NoSuchBucketException`, ...) and `S3.S3Exception`
//! otherwise, with the SDK v2 cause "<message> (Service: S3, Status Code: 404, Request ID: …,
//! Extended Request ID: …)". A parameter of the wrong type or a missing `Bucket`/`Key` fails
//! with `States.Runtime` before any request; an action not served here names itself.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::{AwsClient, AwsRequest, AwsResponse, ClientError, Service};
use crate::percent::percent_encode;
use crate::tasks::items::{ObjectStore, Page, Range};
use crate::tasks::lambda::unsupported_pattern;
use crate::tasks::{TaskError, TaskFuture, TaskHandler, TaskRegistry, TaskRequest};
use crate::value::{Map, Str, Value};

/// Partitions whose `aws-sdk:s3:` resources are served.
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// S3 error codes the SDK v2 has exception classes for; the rest are `S3Exception`.
const MODELED: [&str; 12] = [
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "InvalidObjectState",
    "ObjectAlreadyInActiveTierError",
    "ObjectNotInActiveTierError",
    "EncryptionTypeMismatch",
    "InvalidRequest",
    "InvalidWriteOffset",
    "TooManyParts",
];

/// The actions served, as Step Functions spells them after `aws-sdk:s3:`.
pub const ACTIONS: [&str; 11] = [
    "getObject",
    "putObject",
    "headObject",
    "deleteObject",
    "copyObject",
    "listObjectsV2",
    "listObjects",
    "listBuckets",
    "createBucket",
    "deleteBucket",
    "headBucket",
];

/// S3 through the shared request layer.
#[derive(Clone)]
pub struct S3 {
    client: Arc<AwsClient>,
}

/// Registers `aws-sdk:s3:*` (unless something already serves that prefix) and makes S3 the
/// registry's object store for Distributed Map (unless one is set).
pub fn register_s3(registry: &mut TaskRegistry, client: Arc<AwsClient>) {
    let s3 = S3 { client };
    for p in PARTITIONS {
        let prefix = format!("arn:{p}:states:::aws-sdk:s3:");
        if !registry.has_prefix(&prefix) {
            registry.register_prefix(&prefix, Arc::new(s3.clone()));
        }
    }
    if registry.object_store().is_none() {
        registry.set_object_store(Arc::new(s3));
    }
}

impl S3 {
    /// An S3 client over `client`.
    pub fn new(client: Arc<AwsClient>) -> S3 {
        S3 { client }
    }

    /// Sends one request for `bucket` (and `key`), with `query` already encoded.
    /// `send`, with a transport failure and an error status both as the Task's error.
    async fn call(
        &self,
        method: hyper::Method,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> Result<AwsResponse, TaskError> {
        let resp = self
            .send(method, bucket, key, query, headers, body)
            .await
            .map_err(|e| client_error(&e))?;
        check(&resp)?;
        Ok(resp)
    }

    async fn send(
        &self,
        method: hyper::Method,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &str,
        headers: Vec<(&'static str, String)>,
        body: Bytes,
    ) -> Result<AwsResponse, ClientError> {
        let settings = self.client.settings();
        let key_path = key.map(|k| percent_encode(k, true)).unwrap_or_default();
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let virtual_host = match bucket {
            Some(b) => !settings.is_explicit(Service::S3) && !b.contains('.'),
            None => false,
        };
        let mut req = AwsRequest {
            service: Service::S3,
            method,
            path: String::new(),
            headers,
            body,
        };
        if virtual_host {
            let b = bucket.unwrap_or_default();
            let region = &settings.region;
            let suffix = if region.starts_with("cn-") {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            req.path = format!("/{key_path}{query}");
            let endpoint = format!("https://{b}.s3.{region}.{suffix}");
            self.client.call_at(&endpoint, req).await
        } else {
            req.path = match bucket {
                Some(b) if key.is_some() => {
                    format!("/{}/{key_path}{query}", percent_encode(b, false))
                }
                Some(b) => format!("/{}{query}", percent_encode(b, false)),
                None => format!("/{query}"),
            };
            self.client.call(req).await
        }
    }

    /// One `aws-sdk:s3:<action>` call.
    async fn sdk(&self, action: &str, params: &Map) -> Result<Value, TaskError> {
        use hyper::Method;
        let p = Params(params);
        match action {
            "getObject" | "headObject" => {
                let (bucket, key) = (p.req("Bucket")?, p.req("Key")?);
                let mut query = Query::default();
                query.opt("versionId", p.opt("VersionId")?);
                query.opt("partNumber", p.opt("PartNumber")?);
                let headers = p.headers(&[
                    ("Range", "range"),
                    ("IfMatch", "if-match"),
                    ("IfNoneMatch", "if-none-match"),
                    ("IfModifiedSince", "if-modified-since"),
                    ("IfUnmodifiedSince", "if-unmodified-since"),
                    ("ExpectedBucketOwner", "x-amz-expected-bucket-owner"),
                ])?;
                let method = if action == "getObject" {
                    Method::GET
                } else {
                    Method::HEAD
                };
                let resp = self
                    .call(
                        method,
                        Some(&bucket),
                        Some(&key),
                        &query.0,
                        headers,
                        Bytes::new(),
                    )
                    .await?;
                let mut out = object_headers(&resp);
                if action == "getObject" {
                    out.insert(
                        Str::from("Body"),
                        Value::from(String::from_utf8_lossy(&resp.body).as_ref()),
                    );
                }
                Ok(Value::object(out))
            }
            "putObject" => {
                let (bucket, key) = (p.req("Bucket")?, p.req("Key")?);
                // Step Functions writes the Body as JSON text, a string too: AWS's recording
                // of `"Body": "text data"` has the ETag of `"text data"` with its quotes.
                let body = match params.get("Body") {
                    None => String::new(),
                    Some(v) => v.to_json(),
                };
                let mut headers = p.headers(&[
                    ("ContentType", "content-type"),
                    ("CacheControl", "cache-control"),
                    ("ContentDisposition", "content-disposition"),
                    ("ContentEncoding", "content-encoding"),
                    ("ContentLanguage", "content-language"),
                    ("StorageClass", "x-amz-storage-class"),
                    ("ServerSideEncryption", "x-amz-server-side-encryption"),
                    ("Tagging", "x-amz-tagging"),
                    ("ACL", "x-amz-acl"),
                    ("ExpectedBucketOwner", "x-amz-expected-bucket-owner"),
                ])?;
                metadata_headers(params, &mut headers)?;
                let crc = crc32fast::hash(body.as_bytes()).to_be_bytes();
                use base64::Engine as _;
                headers.push((
                    "x-amz-checksum-crc32",
                    base64::engine::general_purpose::STANDARD.encode(crc),
                ));
                headers.push(("x-amz-sdk-checksum-algorithm", "CRC32".into()));
                let resp = self
                    .call(
                        Method::PUT,
                        Some(&bucket),
                        Some(&key),
                        "",
                        headers,
                        Bytes::from(body),
                    )
                    .await?;
                let mut out = Map::new();
                header_members(
                    &resp,
                    &mut out,
                    &[
                        ("x-amz-checksum-crc32", "ChecksumCRC32"),
                        ("x-amz-checksum-type", "ChecksumType"),
                        ("etag", "ETag"),
                        ("x-amz-expiration", "Expiration"),
                        ("x-amz-server-side-encryption", "ServerSideEncryption"),
                        ("x-amz-version-id", "VersionId"),
                    ],
                );
                if out.get("ChecksumCRC32").is_some() && out.get("ChecksumType").is_none() {
                    // S3 computes a whole-object checksum for a single PUT.
                    out.insert(Str::from("ChecksumType"), Value::str("FULL_OBJECT"));
                }
                out.sort_keys();
                Ok(Value::object(out))
            }
            "deleteObject" => {
                let (bucket, key) = (p.req("Bucket")?, p.req("Key")?);
                let mut query = Query::default();
                query.opt("versionId", p.opt("VersionId")?);
                let resp = self
                    .call(
                        Method::DELETE,
                        Some(&bucket),
                        Some(&key),
                        &query.0,
                        Vec::new(),
                        Bytes::new(),
                    )
                    .await?;
                let mut out = Map::new();
                if let Some(v) = resp.header("x-amz-delete-marker") {
                    out.insert(Str::from("DeleteMarker"), Value::Bool(v == "true"));
                }
                header_members(&resp, &mut out, &[("x-amz-version-id", "VersionId")]);
                Ok(Value::object(out))
            }
            "copyObject" => {
                let (bucket, key) = (p.req("Bucket")?, p.req("Key")?);
                let source = p.req("CopySource")?;
                let mut headers = vec![("x-amz-copy-source", percent_encode(&source, true))];
                headers.extend(p.headers(&[
                    ("MetadataDirective", "x-amz-metadata-directive"),
                    ("ContentType", "content-type"),
                    ("StorageClass", "x-amz-storage-class"),
                ])?);
                metadata_headers(params, &mut headers)?;
                let resp = self
                    .call(
                        Method::PUT,
                        Some(&bucket),
                        Some(&key),
                        "",
                        headers,
                        Bytes::new(),
                    )
                    .await?;
                let doc = xml_doc(&resp)?;
                let mut out = Map::new();
                let mut result = Map::new();
                for (k, v) in doc.children_of_root() {
                    let v = match k.as_str() {
                        "LastModified" => iso_date(&v),
                        _ => Value::from(v.as_str()),
                    };
                    result.insert(Str::from(k.as_str()), v);
                }
                out.insert(Str::from("CopyObjectResult"), Value::object(result));
                header_members(
                    &resp,
                    &mut out,
                    &[
                        ("x-amz-server-side-encryption", "ServerSideEncryption"),
                        ("x-amz-version-id", "VersionId"),
                        ("x-amz-copy-source-version-id", "CopySourceVersionId"),
                    ],
                );
                Ok(Value::object(out))
            }
            "listObjectsV2" | "listObjects" => {
                let bucket = p.req("Bucket")?;
                let mut query = Query::default();
                if action == "listObjectsV2" {
                    query.add("list-type", "2");
                }
                for (member, name) in [
                    ("ContinuationToken", "continuation-token"),
                    ("Delimiter", "delimiter"),
                    ("EncodingType", "encoding-type"),
                    ("FetchOwner", "fetch-owner"),
                    ("Marker", "marker"),
                    ("MaxKeys", "max-keys"),
                    ("Prefix", "prefix"),
                    ("StartAfter", "start-after"),
                ] {
                    query.opt(name, p.opt(member)?);
                }
                let resp = self
                    .call(
                        Method::GET,
                        Some(&bucket),
                        None,
                        &query.sorted(),
                        Vec::new(),
                        Bytes::new(),
                    )
                    .await?;
                Ok(Value::object(listing(&xml_doc(&resp)?)))
            }
            "listBuckets" => {
                let resp = self
                    .call(Method::GET, None, None, "", Vec::new(), Bytes::new())
                    .await?;
                let doc = xml_doc(&resp)?;
                let mut out = Map::new();
                let buckets: Vec<Value> = doc
                    .find("Buckets")
                    .map(|b| {
                        b.children
                            .iter()
                            .filter(|c| c.name == "Bucket")
                            .map(|c| Value::object(members(c)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(Str::from("Buckets"), Value::array(buckets));
                if let Some(owner) = doc.find("Owner") {
                    out.insert(Str::from("Owner"), Value::object(members(owner)));
                }
                Ok(Value::object(out))
            }
            "createBucket" | "deleteBucket" | "headBucket" => {
                let bucket = p.req("Bucket")?;
                let (method, body) = match action {
                    "createBucket" => {
                        let region = params
                            .get("CreateBucketConfiguration")
                            .and_then(|c| c.get("LocationConstraint"))
                            .and_then(Value::as_str);
                        let body = match region {
                            Some(r) => format!(
                                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                                quick_xml::escape::escape(r)
                            ),
                            None => String::new(),
                        };
                        (Method::PUT, body)
                    }
                    "deleteBucket" => (Method::DELETE, String::new()),
                    _ => (Method::HEAD, String::new()),
                };
                let resp = self
                    .call(
                        method,
                        Some(&bucket),
                        None,
                        "",
                        Vec::new(),
                        Bytes::from(body),
                    )
                    .await?;
                let mut out = Map::new();
                header_members(
                    &resp,
                    &mut out,
                    &[
                        ("location", "Location"),
                        ("x-amz-bucket-region", "BucketRegion"),
                    ],
                );
                Ok(Value::object(out))
            }
            _ => Err(TaskError::runtime(format!(
                "The S3 action '{action}' is not served by this engine's aws-sdk:s3 integration (it serves {}).",
                ACTIONS.join(", ")
            ))),
        }
    }
}

impl TaskHandler for S3 {
    fn invoke(&self, req: TaskRequest) -> TaskFuture {
        let s3 = self.clone();
        Box::pin(async move {
            if let Some(suffix) = crate::tasks::arn::pattern_suffix(&req.resource) {
                return Err(unsupported_pattern(&req.resource, suffix));
            }
            let action = req
                .resource
                .split_once(":aws-sdk:s3:")
                .map(|(_, a)| a)
                .unwrap_or_default();
            let params = match &req.input {
                Value::Object(m) => (**m).clone(),
                Value::Null => Map::new(),
                other => {
                    return Err(TaskError::runtime(format!(
                        "The parameters of '{}' must be an object, but were: {}",
                        req.resource,
                        other.to_json()
                    )));
                }
            };
            s3.sdk(action, &params).await
        })
    }
}

impl ObjectStore for S3 {
    fn get_range(
        &self,
        params: Map,
        start: u64,
        len: u64,
    ) -> BoxFuture<'static, Result<Range, TaskError>> {
        let s3 = self.clone();
        Box::pin(async move {
            let p = Params(&params);
            let (bucket, key) = (p.req("Bucket")?, p.req("Key")?);
            let mut query = Query::default();
            query.opt("versionId", p.opt("VersionId")?);
            let range = format!("bytes={start}-{}", start + len.max(1) - 1);
            let resp = s3
                .send(
                    hyper::Method::GET,
                    Some(&bucket),
                    Some(&key),
                    &query.0,
                    vec![("range", range)],
                    Bytes::new(),
                )
                .await
                .map_err(|e| client_error(&e))?;
            // An empty object has no byte 0: S3 answers 416.
            if resp.status == 416 && start == 0 {
                return Ok(Range {
                    bytes: Bytes::new(),
                    total: 0,
                });
            }
            check(&resp)?;
            let total = resp
                .header("content-range")
                .and_then(|r| r.rsplit('/').next())
                .and_then(|t| t.trim().parse::<u64>().ok())
                // A 200 (a server that ignores Range) is the whole object.
                .unwrap_or(start + resp.body.len() as u64);
            let mut bytes = resp.body.clone();
            if resp.status == 200 && start > 0 {
                let from = (start as usize).min(bytes.len());
                bytes = bytes.slice(from..);
            }
            Ok(Range { bytes, total })
        })
    }

    fn list(
        &self,
        params: Map,
        token: Option<String>,
    ) -> BoxFuture<'static, Result<Page, TaskError>> {
        let s3 = self.clone();
        Box::pin(async move {
            let mut params = params;
            if let Some(t) = token {
                params.insert(Str::from("ContinuationToken"), Value::from(t.as_str()));
            }
            let out = s3.sdk("listObjectsV2", &params).await?;
            let items = out
                .get("Contents")
                .and_then(Value::as_array)
                .unwrap_or_default()
                .iter()
                .map(reader_item)
                .collect();
            let next = match out.get("IsTruncated") {
                Some(Value::Bool(true)) => out
                    .get("NextContinuationToken")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            };
            Ok(Page { items, next })
        })
    }

    fn put(
        &self,
        bucket: String,
        key: String,
        body: Vec<u8>,
    ) -> BoxFuture<'static, Result<(), TaskError>> {
        let s3 = self.clone();
        Box::pin(async move {
            let resp = s3
                .send(
                    hyper::Method::PUT,
                    Some(&bucket),
                    Some(&key),
                    "",
                    vec![("content-type", "application/json".into())],
                    Bytes::from(body),
                )
                .await
                .map_err(|e| client_error(&e))?;
            check(&resp)
        })
    }
}

/// A listed object as ItemReader's `listObjectsV2` hands it to the Map: `Etag`, `Key`,
/// `LastModified` (epoch seconds), `Size`, `StorageClass`.
fn reader_item(o: &Value) -> Value {
    let mut m = Map::new();
    if let Some(e) = o.get("ETag") {
        m.insert(Str::from("Etag"), e.clone());
    }
    if let Some(k) = o.get("Key") {
        m.insert(Str::from("Key"), k.clone());
    }
    if let Some(t) = o.get("LastModified").and_then(Value::as_str) {
        let secs = chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp())
            .unwrap_or(0);
        m.insert(Str::from("LastModified"), Value::int(secs));
    }
    if let Some(s) = o.get("Size") {
        m.insert(Str::from("Size"), s.clone());
    }
    if let Some(s) = o.get("StorageClass") {
        m.insert(Str::from("StorageClass"), s.clone());
    }
    Value::object(m)
}

/// The Task's parameters, read with `States.Runtime` for a wrong type.
struct Params<'a>(&'a Map);

impl Params<'_> {
    fn opt(&self, member: &str) -> Result<Option<String>, TaskError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.to_string())),
            Some(Value::Number(n)) => Ok(Some(Value::Number(*n).to_json())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(TaskError::runtime(format!(
                "The S3 parameter '{member}' must be a string, but was {}: {}",
                other.type_name(),
                other.to_json()
            ))),
        }
    }

    fn req(&self, member: &str) -> Result<String, TaskError> {
        match self.opt(member)? {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(TaskError::runtime(format!(
                "The S3 parameter '{member}' is required."
            ))),
        }
    }

    fn headers(
        &self,
        map: &[(&str, &'static str)],
    ) -> Result<Vec<(&'static str, String)>, TaskError> {
        let mut out = Vec::new();
        for (member, header) in map {
            if let Some(v) = self.opt(member)? {
                out.push((*header, v));
            }
        }
        Ok(out)
    }
}

/// `Metadata` as `x-amz-meta-*` headers. The header names must be `'static`: user metadata
/// keys are leaked once per distinct name, bounded by what the definitions name.
fn metadata_headers(
    params: &Map,
    headers: &mut Vec<(&'static str, String)>,
) -> Result<(), TaskError> {
    match params.get("Metadata") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(m)) => {
            for (k, v) in m.iter() {
                let name = format!("x-amz-meta-{}", k.to_ascii_lowercase());
                if !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(TaskError::runtime(format!(
                        "The S3 metadata key '{k}' is not a valid header name."
                    )));
                }
                let value = match v {
                    Value::String(s) => s.to_string(),
                    other => other.to_json(),
                };
                headers.push((static_name(name), value));
            }
            Ok(())
        }
        Some(other) => Err(TaskError::runtime(format!(
            "The S3 parameter 'Metadata' must be an object, but was: {}",
            other.to_json()
        ))),
    }
}

/// Interns a header name (the request layer takes `&'static str` names).
fn static_name(name: String) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = set.get(name.as_str()) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.into_boxed_str());
    set.insert(leaked);
    leaked
}

/// Encoded query parameters.
#[derive(Default)]
struct Query(String);

impl Query {
    fn add(&mut self, k: &str, v: &str) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.0.push_str(&percent_encode(k, false));
        self.0.push('=');
        self.0.push_str(&percent_encode(v, false));
    }

    fn opt(&mut self, k: &str, v: Option<String>) {
        if let Some(v) = v {
            self.add(k, &v);
        }
    }

    /// Sorted by name (what SigV4's canonical query is; some servers compare them as sent).
    fn sorted(&self) -> String {
        let mut parts: Vec<&str> = self.0.split('&').filter(|p| !p.is_empty()).collect();
        parts.sort_unstable();
        parts.join("&")
    }
}

/// GetObject/HeadObject's headers as the SDK's members.
fn object_headers(resp: &AwsResponse) -> Map {
    let mut out = Map::new();
    header_members(resp, &mut out, &[("accept-ranges", "AcceptRanges")]);
    if let Some(n) = resp
        .header("content-length")
        .and_then(|n| n.trim().parse::<i64>().ok())
    {
        out.insert(Str::from("ContentLength"), Value::int(n));
    }
    header_members(
        resp,
        &mut out,
        &[
            ("cache-control", "CacheControl"),
            ("content-disposition", "ContentDisposition"),
            ("content-encoding", "ContentEncoding"),
            ("content-language", "ContentLanguage"),
            ("content-range", "ContentRange"),
            ("content-type", "ContentType"),
            ("x-amz-delete-marker", "DeleteMarker"),
            ("etag", "ETag"),
            ("x-amz-expiration", "Expiration"),
        ],
    );
    if let Some(d) = resp.header("last-modified") {
        out.insert(Str::from("LastModified"), http_date(d));
    }
    let mut meta = Map::new();
    for (k, v) in &resp.headers {
        let lower = k.to_ascii_lowercase();
        if let Some(name) = lower.strip_prefix("x-amz-meta-") {
            meta.insert(Str::from(name), Value::from(v.as_str()));
        }
    }
    out.insert(Str::from("Metadata"), Value::object(meta));
    if let Some(n) = resp
        .header("x-amz-mp-parts-count")
        .and_then(|n| n.parse::<i64>().ok())
    {
        out.insert(Str::from("PartsCount"), Value::int(n));
    }
    header_members(
        resp,
        &mut out,
        &[
            ("x-amz-server-side-encryption", "ServerSideEncryption"),
            ("x-amz-storage-class", "StorageClass"),
            ("x-amz-version-id", "VersionId"),
        ],
    );
    if let Some(Value::String(d)) = out.get("DeleteMarker").cloned() {
        out.insert(Str::from("DeleteMarker"), Value::Bool(&*d == "true"));
    }
    out
}

/// Copies the headers named in `map` (lower-case) into `out` as members.
fn header_members(resp: &AwsResponse, out: &mut Map, map: &[(&str, &str)]) {
    for (header, member) in map {
        if let Some(v) = resp.header(header) {
            out.insert(Str::from(*member), Value::from(v));
        }
    }
}

/// An HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`) as the ISO 8601 instant Step Functions shows.
fn http_date(d: &str) -> Value {
    match chrono::DateTime::parse_from_rfc2822(d) {
        Ok(t) => Value::from(
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .as_str(),
        ),
        Err(_) => Value::from(d),
    }
}

/// An XML date (`2015-10-21T07:28:00.000Z`) as Step Functions shows it.
fn iso_date(d: &str) -> Value {
    match chrono::DateTime::parse_from_rfc3339(d) {
        Ok(t) => Value::from(
            t.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .as_str(),
        ),
        Err(_) => Value::from(d),
    }
}

/// Fails with S3's error for a non-2xx answer.
fn check(resp: &AwsResponse) -> Result<(), TaskError> {
    if resp.status < 300 {
        return Ok(());
    }
    let doc = Node::parse(&resp.body).ok();
    let field = |name: &str| {
        doc.as_ref()
            .and_then(|d| d.find(name))
            .map(|n| n.text.clone())
    };
    // A HEAD answer has no body: the SDK names 404 NoSuchKey and the rest by status.
    let code = field("Code").unwrap_or_else(|| match resp.status {
        404 => "NotFound".into(),
        403 => "Forbidden".into(),
        400 => "BadRequest".into(),
        _ => String::new(),
    });
    let message = field("Message").unwrap_or_else(|| "null".into());
    let exception = if MODELED.contains(&code.as_str()) {
        format!("{code}Exception")
    } else if code == "NotFound" {
        "NoSuchKeyException".into()
    } else {
        "S3Exception".into()
    };
    let request_id = field("RequestId")
        .or_else(|| resp.header("x-amz-request-id").map(str::to_string))
        .unwrap_or_else(|| "null".into());
    let extended = field("HostId")
        .or_else(|| resp.header("x-amz-id-2").map(str::to_string))
        .unwrap_or_else(|| "null".into());
    Err(TaskError::new(
        format!("S3.{exception}"),
        format!(
            "{message} (Service: S3, Status Code: {}, Request ID: {request_id}, Extended Request ID: {extended})",
            resp.status
        ),
    ))
}

/// No answer: the SDK v2's `SdkClientException`.
fn client_error(e: &ClientError) -> TaskError {
    TaskError::new("S3.SdkClientException", e.cause())
}

/// A 2xx answer's XML document, or the SDK's unmarshalling failure.
fn xml_doc(resp: &AwsResponse) -> Result<Node, TaskError> {
    Node::parse(&resp.body).map_err(|detail| {
        TaskError::new(
            "S3.SdkClientException",
            format!(
                "Unable to unmarshall response ({detail}). Response Code: {}",
                resp.status
            ),
        )
    })
}

/// ListObjects(V2)'s answer as the SDK's members: `Contents` and `CommonPrefixes` lists,
/// numbers and booleans typed.
fn listing(doc: &Node) -> Map {
    let mut out = Map::new();
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for c in &doc.children {
        match c.name.as_str() {
            "Contents" => contents.push(Value::object(members(c))),
            "CommonPrefixes" => prefixes.push(Value::object(members(c))),
            _ => {}
        }
    }
    if !prefixes.is_empty() {
        out.insert(Str::from("CommonPrefixes"), Value::array(prefixes));
    }
    if !contents.is_empty() {
        out.insert(Str::from("Contents"), Value::array(contents));
    }
    for c in &doc.children {
        if matches!(c.name.as_str(), "Contents" | "CommonPrefixes") {
            continue;
        }
        out.insert(Str::from(c.name.as_str()), typed(&c.name, &c.text));
    }
    out.sort_keys();
    out
}

/// An element's children as members (nested elements as objects).
fn members(n: &Node) -> Map {
    let mut m = Map::new();
    for c in &n.children {
        let v = if c.children.is_empty() {
            typed(&c.name, &c.text)
        } else {
            Value::object(members(c))
        };
        m.insert(Str::from(c.name.as_str()), v);
    }
    m
}

/// A leaf's text as the SDK types the member.
fn typed(name: &str, text: &str) -> Value {
    match name {
        "Size" | "KeyCount" | "MaxKeys" => text
            .trim()
            .parse::<i64>()
            .map(Value::int)
            .unwrap_or_else(|_| Value::from(text)),
        "IsTruncated" | "IsLatest" => Value::Bool(text.trim() == "true"),
        "LastModified" | "CreationDate" => iso_date(text.trim()),
        _ => Value::from(text),
    }
}

/// A parsed XML element.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    /// The root element of `body`.
    fn parse(body: &[u8]) -> Result<Node, String> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(body);
        let mut stack: Vec<Node> = Vec::new();
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(e)) => stack.push(Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                }),
                Ok(Event::Empty(e)) => {
                    let n = Node {
                        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                        ..Node::default()
                    };
                    match stack.last_mut() {
                        Some(p) => p.children.push(n),
                        None => return Ok(n),
                    }
                }
                Ok(Event::End(_)) => {
                    let n = stack.pop().ok_or("unbalanced XML")?;
                    match stack.last_mut() {
                        Some(p) => p.children.push(n),
                        None => return Ok(n),
                    }
                }
                Ok(Event::Text(t)) => {
                    let raw = t.decode().map_err(|e| e.to_string())?;
                    let text = quick_xml::escape::unescape(&raw).map_err(|e| e.to_string())?;
                    if let Some(n) = stack.last_mut() {
                        n.text.push_str(&text);
                    }
                }
                Ok(Event::GeneralRef(r)) => {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    let text = quick_xml::escape::unescape(&format!("&{name};"))
                        .map_err(|e| e.to_string())?
                        .into_owned();
                    if let Some(n) = stack.last_mut() {
                        n.text.push_str(&text);
                    }
                }
                Ok(Event::CData(t)) => {
                    if let Some(n) = stack.last_mut() {
                        n.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Ok(Event::Eof) => return Err("the answer is not an XML document".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("malformed XML: {e}")),
            }
            buf.clear();
        }
    }

    /// The first element named `name` at any depth (self included).
    fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The root's leaf children as (name, text).
    fn children_of_root(&self) -> Vec<(String, String)> {
        self.children
            .iter()
            .map(|c| (c.name.clone(), c.text.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_types_members() {
        let xml = br#"<?xml version="1.0"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b.csv</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>"#;
        let doc = Node::parse(xml).unwrap();
        let out = Value::object(listing(&doc));
        assert_eq!(
            out.to_json(),
            r#"{"Contents":[{"Key":"a&b.csv","LastModified":"2024-01-02T03:04:05Z","ETag":"\"abc\"","Size":12,"StorageClass":"STANDARD"}],"IsTruncated":false,"KeyCount":1,"MaxKeys":1000,"Name":"b","Prefix":""}"#
        );
        let item = reader_item(&out.get("Contents").unwrap().as_array().unwrap()[0]);
        assert_eq!(
            item.to_json(),
            r#"{"Etag":"\"abc\"","Key":"a&b.csv","LastModified":1704164645,"Size":12,"StorageClass":"STANDARD"}"#
        );
    }

    #[test]
    fn errors_as_the_sdk_names_them() {
        let resp = AwsResponse {
            status: 404,
            headers: vec![("x-amz-request-id".into(), "R1".into())],
            body: Bytes::from_static(b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>x</BucketName><RequestId>R2</RequestId><HostId>H</HostId></Error>"),
        };
        let e = check(&resp).unwrap_err();
        assert_eq!(e.error, "S3.NoSuchBucketException");
        assert_eq!(
            e.cause.as_deref(),
            Some(
                "The specified bucket does not exist (Service: S3, Status Code: 404, Request ID: R2, Extended Request ID: H)"
            )
        );
        let head = AwsResponse {
            status: 403,
            headers: vec![],
            body: Bytes::new(),
        };
        assert_eq!(check(&head).unwrap_err().error, "S3.S3Exception");
    }

    #[test]
    fn wrong_parameter_types_are_runtime_errors() {
        let mut m = Map::new();
        m.insert(Str::from("Bucket"), Value::array(vec![]));
        let e = Params(&m).req("Bucket").unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        assert!(Params(&Map::new()).req("Key").is_err());
    }
}
