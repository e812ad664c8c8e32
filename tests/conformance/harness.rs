//! Comparison of an engine's answer with what AWS answered, as `shared/conformance/run.py`
//! does it: wildcards, `canon` rewrites, `normalise` removals, numbers by value.

use regex::Regex;
use serde_json::Value;

pub const CANON_ACCOUNT: &str = "111111111111";

/// One recorded case.
pub struct Case {
    pub id: String,
    pub raw: Value,
}

impl Case {
    pub fn features(&self) -> Vec<String> {
        strings(&self.raw["features"])
    }
    pub fn needs(&self) -> Vec<String> {
        strings(&self.raw["needs"])
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn load(path: &str) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("the cases file is part of the repository");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let raw: Value = serde_json::from_str(l).expect("every case line is JSON");
            Case {
                id: raw["id"].as_str().unwrap_or_default().to_string(),
                raw,
            }
        })
        .collect()
}

/// What the engine answered.
pub struct Answer {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub account: String,
}

struct Matcher {
    tokens: Vec<String>,
    re: Option<Regex>,
}

impl Matcher {
    fn new(wildcards: &Value) -> Matcher {
        let mut tokens = strings(wildcards);
        tokens.sort_by_key(|t| std::cmp::Reverse(t.len()));
        tokens.dedup();
        let re = if tokens.is_empty() {
            None
        } else {
            Some(
                Regex::new(
                    &tokens
                        .iter()
                        .map(|t| regex::escape(t))
                        .collect::<Vec<_>>()
                        .join("|"),
                )
                .expect("escaped tokens form a regex"),
            )
        };
        Matcher { tokens, re }
    }

    fn str_match(&self, exp: &str, act: &str) -> bool {
        let Some(re) = &self.re else {
            return exp == act;
        };
        if !re.is_match(exp) {
            return exp == act;
        }
        if self.tokens.iter().any(|t| t == exp) {
            return true;
        }
        let parts: Vec<String> = re.split(exp).map(regex::escape).collect();
        let pat = format!("(?s)^{}$", parts.join("(?:.*?)"));
        Regex::new(&pat).map(|r| r.is_match(act)).unwrap_or(false)
    }

    fn eq(&self, exp: &Value, act: &Value) -> bool {
        match (exp, act) {
            (Value::String(e), _) if self.tokens.iter().any(|t| t == e) => true,
            (Value::String(e), Value::String(a)) => self.str_match(e, a),
            (Value::Bool(e), Value::Bool(a)) => e == a,
            (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
            (Value::Null, Value::Null) => true,
            (Value::Array(e), Value::Array(a)) => {
                e.len() == a.len() && e.iter().zip(a).all(|(x, y)| self.eq(x, y))
            }
            (Value::Object(e), Value::Object(a)) => {
                e.len() == a.len()
                    && e.iter()
                        .all(|(k, v)| a.get(k).is_some_and(|w| self.eq(v, w)))
            }
            _ => false,
        }
    }
}

fn timestamp_keys(v: &mut Value, iso: Option<&Regex>) {
    if let Value::Object(o) = v {
        for (k, val) in o.iter_mut() {
            if k.to_lowercase().contains("timestamp") && (val.is_string() || val.is_number()) {
                let is_ts = match (&*val, iso) {
                    (Value::String(s), Some(re)) => re.is_match(s) || val.is_number(),
                    _ => true,
                };
                if is_ts {
                    *val = Value::String("timestamp".into());
                }
            } else {
                timestamp_keys(val, iso);
            }
        }
    } else if let Value::Array(a) = v {
        for item in a {
            timestamp_keys(item, iso);
        }
    }
}

fn canonicalise(v: Value, canon: &Value, account: &str) -> Value {
    if canon.is_null() {
        return v;
    }
    let iso = canon["iso8601_date"]
        .as_str()
        .and_then(|p| Regex::new(p).ok());
    let mut v = v;
    if canon["timestamp_keys"].as_bool() == Some(true) {
        timestamp_keys(&mut v, iso.as_ref());
    }
    let mut text = serde_json::to_string(&v).unwrap_or_default();
    if canon["account"].is_string() && !account.is_empty() && account != CANON_ACCOUNT {
        text = text.replace(account, CANON_ACCOUNT);
    }
    if let Some(re) = &iso {
        text = re.replace_all(&text, "date").into_owned();
    }
    serde_json::from_str(&text).unwrap_or(v)
}

enum PStep {
    Key(String),
    Deep(String),
}

fn parse_norm(path: &str) -> Vec<PStep> {
    let mut steps = Vec::new();
    let mut rest = &path[1..];
    while !rest.is_empty() {
        let deep = rest.starts_with("..");
        rest = rest.trim_start_matches('.');
        let end = rest.find('.').unwrap_or(rest.len());
        let key = rest[..end].to_string();
        rest = &rest[end..];
        steps.push(if deep {
            PStep::Deep(key)
        } else {
            PStep::Key(key)
        });
    }
    steps
}

fn remove(v: &mut Value, steps: &[PStep]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    match first {
        PStep::Key(k) => {
            if let Value::Object(o) = v {
                if rest.is_empty() {
                    o.shift_remove(k);
                } else if let Some(child) = o.get_mut(k) {
                    remove(child, rest);
                }
            }
        }
        PStep::Deep(k) => walk_remove(v, k, rest),
    }
}

fn walk_remove(v: &mut Value, key: &str, rest: &[PStep]) {
    match v {
        Value::Object(o) => {
            if rest.is_empty() {
                o.shift_remove(key);
            } else if let Some(child) = o.get_mut(key) {
                remove(child, rest);
            }
            for (_, child) in o.iter_mut() {
                walk_remove(child, key, rest);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| walk_remove(c, key, rest)),
        _ => {}
    }
}

/// `Ok(())` when the answer matches, else the reason.
pub fn compare(case: &Case, ans: &Answer) -> Result<(), String> {
    let exp = &case.raw["expected"];
    let exp_status = exp["status"].as_str().unwrap_or_default();
    if ans.status != exp_status {
        return Err(format!(
            "status {} != {} {} {}",
            ans.status,
            exp_status,
            ans.error.as_deref().unwrap_or(""),
            ans.cause.as_deref().unwrap_or("")
        ));
    }
    let m = Matcher::new(&case.raw["wildcards"]);
    let mut act_cause = ans.cause.clone().map(Value::String).unwrap_or(Value::Null);
    if exp["cause_json"].as_bool() == Some(true)
        && let Some(parsed) = ans
            .cause
            .as_deref()
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
    {
        act_cause = parsed;
    }
    let act_doc = serde_json::json!({
        "output": if exp_status == "SUCCEEDED" { ans.output.clone().unwrap_or(Value::Null) } else { Value::Null },
        "error": ans.error,
        "cause": act_cause,
    });
    let mut act_doc = canonicalise(act_doc, &case.raw["canon"], &ans.account);
    let mut exp_doc = serde_json::json!({"output": exp.get("output").cloned().unwrap_or(Value::Null), "error": exp["error"], "cause": exp["cause"]});
    for p in strings(&case.raw["normalise"]) {
        let steps = parse_norm(&p);
        remove(&mut exp_doc, &steps);
        remove(&mut act_doc, &steps);
    }
    let mut reasons = Vec::new();
    if exp_status == "SUCCEEDED" {
        if !m.eq(&exp_doc["output"], &act_doc["output"]) {
            reasons.push(format!(
                "output: expected {} got {}",
                exp_doc["output"], act_doc["output"]
            ));
        }
    } else {
        if !m.eq(&exp_doc["error"], &act_doc["error"]) {
            reasons.push(format!(
                "error: expected {} got {}",
                exp_doc["error"], act_doc["error"]
            ));
        }
        if exp.get("cause").is_some() && !m.eq(&exp_doc["cause"], &act_doc["cause"]) {
            reasons.push(format!(
                "cause: expected {} got {}",
                exp_doc["cause"], act_doc["cause"]
            ));
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons.join("; "))
    }
}
