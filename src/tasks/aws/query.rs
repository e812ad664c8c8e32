//! The query protocol for `aws-sdk:*` (SNS): parameters as a form, XML answers as JSON.
//!
//! Out: `Action=Publish&Version=2010-03-31&TopicArn=…`, lists as `Name.member.N`, maps as
//! `Name.entry.N.<key>` / `.<value>` (the element names per map come from the service table),
//! structures as `Name.Member`. In: the `<ActionResult>` element as an object; elements holding
//! only `<member>`s are lists, `<entry>`s with a key and a value are maps, text stays text (no
//! model says which texts are numbers; SNS's answers are all strings). Errors come as
//! `<ErrorResponse><Error><Code>…` and are named as every `aws-sdk:*` error is.

use super::AwsResponse;
use super::sdk::{SdkService, sdk_error, unmarshall_error};
use crate::percent::percent_encode;
use crate::tasks::TaskError;
use crate::value::{Map, Str, Value};

/// The form body of `action` with `params`.
pub(super) fn form(
    action: &str,
    version: &str,
    params: &Map,
    maps: &[(&str, &str, &str)],
) -> String {
    let mut pairs = vec![
        ("Action".to_string(), action.to_string()),
        ("Version".to_string(), version.to_string()),
    ];
    for (k, v) in params.iter() {
        flatten(&mut pairs, k.to_string(), k, v, maps);
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k, false), percent_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

fn flatten(
    out: &mut Vec<(String, String)>,
    prefix: String,
    member: &str,
    v: &Value,
    maps: &[(&str, &str, &str)],
) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push((prefix, s.to_string())),
        Value::Bool(_) | Value::Number(_) => out.push((prefix, v.to_json())),
        Value::Array(items) if items.is_empty() => out.push((prefix, String::new())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(
                    out,
                    format!("{prefix}.member.{}", i + 1),
                    member,
                    item,
                    maps,
                );
            }
        }
        Value::Object(m) => match maps.iter().find(|(name, _, _)| *name == member) {
            Some((_, key, value)) => {
                for (i, (k, v)) in m.iter().enumerate() {
                    let entry = format!("{prefix}.entry.{}", i + 1);
                    out.push((format!("{entry}.{key}"), k.to_string()));
                    flatten(out, format!("{entry}.{value}"), "", v, maps);
                }
            }
            None => {
                for (k, v) in m.iter() {
                    flatten(out, format!("{prefix}.{k}"), k, v, maps);
                }
            }
        },
    }
}

/// An XML element: its local name, child elements and text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn find(&self, name: &str) -> Option<&Element> {
        self.child(name)
            .or_else(|| self.children.iter().find_map(|c| c.find(name)))
    }
}

/// The document's root element, or why the body is not XML.
fn parse(body: &[u8]) -> Result<Element, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    let name = |n: quick_xml::name::LocalName<'_>| String::from_utf8_lossy(n.as_ref()).into_owned();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => stack.push(Element {
                name: name(e.local_name()),
                ..Element::default()
            }),
            Ok(Event::Empty(e)) => {
                let el = Element {
                    name: name(e.local_name()),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::End(_)) => {
                let el = stack.pop().ok_or("an end tag without a start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = r.decode().map_err(|e| e.to_string())?;
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match &*name {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(format!("unknown entity '&{other};'")),
                    },
                };
                if let Some(el) = stack.last_mut() {
                    el.text.push(c);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::Eof) => return Err("the answer is not an XML document".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("malformed XML: {e}")),
        }
        buf.clear();
    }
}

/// An element's content as JSON.
fn to_value(el: &Element, lists: &[&str]) -> Value {
    if el.children.is_empty() {
        if el.text.trim().is_empty() && lists.contains(&el.name.as_str()) {
            return Value::array(Vec::new());
        }
        return Value::str(&el.text);
    }
    if el.children.iter().all(|c| c.name == "member") {
        return Value::array(el.children.iter().map(|c| to_value(c, lists)).collect());
    }
    let is_map = el
        .children
        .iter()
        .all(|c| c.name == "entry" && c.children.len() == 2);
    let mut out = Map::new();
    if is_map {
        for entry in &el.children {
            let key = Str::from(entry.children[0].text.as_str());
            out.insert(key, to_value(&entry.children[1], lists));
        }
        return Value::object(out);
    }
    for c in &el.children {
        let v = to_value(c, lists);
        let key = Str::from(c.name.as_str());
        match out.get_mut(&key) {
            // A repeated element is a flattened list.
            Some(Value::Array(items)) => std::sync::Arc::make_mut(items).push(v),
            Some(first) => {
                let first = std::mem::take(first);
                out.insert(key, Value::array(vec![first, v]));
            }
            None => {
                out.insert(key, v);
            }
        }
    }
    Value::object(out)
}

/// A query-protocol answer: the result as JSON, or the service's error.
pub(super) fn answer(
    service: &SdkService,
    operation: &str,
    lists: &[&str],
    resp: &AwsResponse,
) -> Result<Value, TaskError> {
    let doc = parse(&resp.body);
    if resp.status >= 300 {
        let doc = doc.unwrap_or_default();
        let text = |name: &str| doc.find(name).map(|e| e.text.clone());
        let code = text("Code").unwrap_or_else(|| "null".into());
        let message = text("Message").unwrap_or_else(|| {
            let body = String::from_utf8_lossy(&resp.body);
            body.trim().chars().take(200).collect()
        });
        let header_id = resp.request_id();
        let id = if header_id.is_empty() {
            text("RequestId").unwrap_or_default()
        } else {
            header_id
        };
        return Err(sdk_error(
            service,
            operation,
            resp.status,
            &id,
            &code,
            &message,
        ));
    }
    let doc = doc.map_err(|e| unmarshall_error(service, resp, &e))?;
    let result = format!("{operation}Result");
    Ok(match doc.child(&result) {
        Some(r) if !r.children.is_empty() => to_value(r, lists),
        _ => Value::empty_object(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNS_MAPS: &[(&str, &str, &str)] = &[
        ("MessageAttributes", "Name", "Value"),
        ("Attributes", "key", "value"),
    ];

    fn resp(status: u16, body: &str) -> AwsResponse {
        AwsResponse {
            status,
            headers: vec![("x-amzn-RequestId".into(), "rid".into())],
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    fn sns() -> &'static SdkService {
        super::super::sdk::SERVICES
            .iter()
            .find(|s| s.name == "sns")
            .expect("sns")
    }

    #[test]
    fn parameters_flatten_as_the_query_protocol_wants() {
        let params = crate::value::parse(
            r#"{"TopicArn":"arn:t","Message":"hi there","Subject":null,
                "MessageAttributes":{"color":{"DataType":"String","StringValue":"red"}},
                "Attributes":{"DisplayName":"x"},"Tags":[{"Key":"a","Value":"b"}],"Ids":[],"N":3}"#,
        )
        .expect("json");
        let form = form(
            "Publish",
            "2010-03-31",
            params.as_object().expect("obj"),
            SNS_MAPS,
        );
        assert_eq!(
            form,
            "Action=Publish&Version=2010-03-31&TopicArn=arn%3At&Message=hi%20there\
             &MessageAttributes.entry.1.Name=color\
             &MessageAttributes.entry.1.Value.DataType=String\
             &MessageAttributes.entry.1.Value.StringValue=red\
             &Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=x\
             &Tags.member.1.Key=a&Tags.member.1.Value=b&Ids=&N=3"
        );
    }

    #[test]
    fn answers_become_json() {
        let body = r#"<ListTopicsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
            <ListTopicsResult><Topics><member><TopicArn>arn:a</TopicArn></member>
            <member><TopicArn>arn:b</TopicArn></member></Topics><NextToken>n&amp;1</NextToken>
            </ListTopicsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
            </ListTopicsResponse>"#;
        let v = answer(sns(), "ListTopics", &["Topics"], &resp(200, body)).expect("ok");
        assert_eq!(
            v.to_json(),
            r#"{"Topics":[{"TopicArn":"arn:a"},{"TopicArn":"arn:b"}],"NextToken":"n&1"}"#
        );
        let body = "<ListTopicsResponse><ListTopicsResult><Topics/></ListTopicsResult></ListTopicsResponse>";
        let v = answer(sns(), "ListTopics", &["Topics"], &resp(200, body)).expect("ok");
        assert_eq!(v.to_json(), r#"{"Topics":[]}"#);
        let body = "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes>\
            <entry><key>Owner</key><value>1</value></entry>\
            <entry><key>Policy</key><value>{}</value></entry>\
            </Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>";
        let v = answer(sns(), "GetTopicAttributes", &[], &resp(200, body)).expect("ok");
        assert_eq!(v.to_json(), r#"{"Attributes":{"Owner":"1","Policy":"{}"}}"#);
        let body = "<DeleteTopicResponse><ResponseMetadata><RequestId>r</RequestId>\
            </ResponseMetadata></DeleteTopicResponse>";
        let v = answer(sns(), "DeleteTopic", &[], &resp(200, body)).expect("ok");
        assert_eq!(v.to_json(), "{}");
    }

    #[test]
    fn errors_and_garbage_are_named() {
        let body = "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>\
            <Message>Topic does not exist</Message></Error><RequestId>x1</RequestId></ErrorResponse>";
        let e = answer(sns(), "Publish", &[], &resp(404, body)).expect_err("fails");
        assert_eq!(e.error, "Sns.NotFoundException");
        assert_eq!(
            e.cause.as_deref(),
            Some(
                "Topic does not exist (Service: Sns, Status Code: 404, Request ID: rid) \
                 (SDK Attempt Count: 1)"
            )
        );
        let e = answer(sns(), "Publish", &[], &resp(500, "<oops")).expect_err("fails");
        assert_eq!(e.error, "Sns.SnsException");
        let e = answer(sns(), "Publish", &[], &resp(200, "not xml")).expect_err("fails");
        assert_eq!(e.error, "Sns.SdkClientException");
        let e = answer(sns(), "Publish", &[], &resp(200, "<a><b></a>")).expect_err("fails");
        assert_eq!(e.error, "Sns.SdkClientException");
    }
}
