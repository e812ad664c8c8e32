//! The short texts on nodes and edges: a Task's service and action, a Choice rule's condition,
//! a Catch's or Retry's error names.

use crate::definition::{ChoiceRule, Json, Retrier, State, StateType};

/// Longest label drawn before it is cut with `…`.
const MAX_LABEL: usize = 48;

/// Cuts `s` to `MAX_LABEL` characters.
pub(crate) fn cut(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_LABEL - 1).collect();
    out.push('…');
    out
}

/// A node's second line: what a Task calls, how long a Wait waits, what a Map iterates.
pub(crate) fn detail(state: &State) -> Option<String> {
    match state.kind {
        StateType::Task => state.resource.as_deref().map(|r| task(r, state)),
        StateType::Wait => {
            let d = if let Some(s) = &state.seconds {
                format!("{} s", scalar(s))
            } else if let Some(p) = &state.seconds_path {
                format!("seconds at {p}")
            } else if let Some(t) = &state.timestamp {
                format!("until {}", scalar(t))
            } else {
                format!("until {}", state.timestamp_path.as_deref().unwrap_or("?"))
            };
            Some(cut(&d))
        }
        StateType::Map => {
            let mode = state
                .item_processor
                .as_ref()
                .and_then(|p| p.processor_config.as_ref())
                .and_then(|c| c.mode.as_deref())
                .unwrap_or("INLINE");
            let over = if state.item_reader.is_some() {
                "items from ItemReader".to_string()
            } else if let Some(p) = &state.items_path {
                format!("each of {p}")
            } else {
                "each item".to_string()
            };
            Some(cut(&format!("{} · {over}", mode.to_lowercase())))
        }
        StateType::Parallel => Some(format!(
            "{} branches",
            state.branches.as_ref().map_or(0, Vec::len)
        )),
        _ => None,
    }
}

/// `lambda: GetCreditLimit`, `sns:publish`, `aws-sdk:dynamodb:scan`, or the activity's name.
fn task(resource: &str, state: &State) -> String {
    if let Some(rest) = resource.strip_prefix("arn:aws:states:::") {
        if rest.starts_with("lambda:invoke") {
            let function = [&state.parameters, &state.arguments]
                .into_iter()
                .flatten()
                .find_map(|p| p.get("FunctionName").or_else(|| p.get("FunctionName.$")))
                .and_then(Json::as_str)
                .map(function_name);
            if let Some(f) = function {
                return cut(&format!("lambda: {f}"));
            }
        }
        return cut(rest);
    }
    if resource.contains(":lambda:") && resource.contains(":function:") {
        return cut(&format!("lambda: {}", function_name(resource)));
    }
    if let Some(i) = resource.find(":activity:") {
        return cut(&format!("activity: {}", &resource[i + 10..]));
    }
    cut(resource)
}

/// `GetCreditLimit` from a function ARN (with or without a qualifier), or the text as given.
fn function_name(f: &str) -> &str {
    match f.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => f,
    }
}

/// A JSON scalar as written, strings without quotes.
fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A Choice rule as a short condition: `$.limit < 5000`, `not ($.x is null)`, JSONata as written.
pub(crate) fn condition(rule: &ChoiceRule) -> String {
    cut(&rule_text(rule, 0))
}

fn rule_text(rule: &ChoiceRule, depth: usize) -> String {
    // Beyond a few levels the picture says no more than "…".
    if depth > 4 {
        return "…".into();
    }
    if let Some(c) = &rule.condition {
        let s = scalar(c);
        let inner = s
            .trim()
            .strip_prefix("{%")
            .and_then(|s| s.strip_suffix("%}"))
            .unwrap_or(&s);
        return inner.trim().to_string();
    }
    let join = |rules: &Vec<ChoiceRule>, op: &str| {
        let parts: Vec<String> = rules
            .iter()
            .map(|r| format!("({})", rule_text(r, depth + 1)))
            .collect();
        parts.join(op)
    };
    if let Some(rules) = &rule.and {
        return join(rules, " and ");
    }
    if let Some(rules) = &rule.or {
        return join(rules, " or ");
    }
    if let Some(r) = &rule.not {
        return format!("not ({})", rule_text(r, depth + 1));
    }
    let var = rule.variable.as_deref().unwrap_or("$");
    let Some((op, value)) = rule.comparisons.iter().next() else {
        return var.to_string();
    };
    let (base, path) = match op.strip_suffix("Path") {
        Some(b) if op != "Path" => (b, true),
        _ => (op.as_str(), false),
    };
    let value_text = if path {
        scalar(value)
    } else {
        value.to_string()
    };
    let symbol = match base {
        "StringEquals" | "NumericEquals" | "BooleanEquals" | "TimestampEquals" => "==",
        "StringLessThan" | "NumericLessThan" | "TimestampLessThan" => "<",
        "StringGreaterThan" | "NumericGreaterThan" | "TimestampGreaterThan" => ">",
        "StringLessThanEquals" | "NumericLessThanEquals" | "TimestampLessThanEquals" => "<=",
        "StringGreaterThanEquals" | "NumericGreaterThanEquals" | "TimestampGreaterThanEquals" => {
            ">="
        }
        "StringMatches" => "matches",
        "IsPresent" | "IsNull" | "IsString" | "IsNumeric" | "IsBoolean" | "IsTimestamp" => {
            let what = base.trim_start_matches("Is").to_lowercase();
            let what = if what == "present" || what == "null" {
                what
            } else {
                format!("a {what}")
            };
            let is = if value == &Json::Bool(false) {
                "is not"
            } else {
                "is"
            };
            return format!("{var} {is} {what}");
        }
        other => other,
    };
    format!("{var} {symbol} {value_text}")
}

/// Most conditions listed on one edge; the rest are counted.
const MAX_LINES: usize = 3;

/// Adds `line` below `text`, or counts it past `MAX_LINES` (`… 2 more`).
pub(crate) fn add_line(text: &mut String, line: &str) {
    let lines = text.lines().count();
    if lines < MAX_LINES {
        text.push('\n');
        text.push_str(line);
        return;
    }
    let more = match text.lines().nth(MAX_LINES) {
        Some(l) => {
            l.trim_start_matches("… ")
                .trim_end_matches(" more")
                .parse::<usize>()
                .unwrap_or(1)
                + 1
        }
        None => 1,
    };
    let kept: Vec<&str> = text.lines().take(MAX_LINES).collect();
    *text = format!("{}\n… {more} more", kept.join("\n"));
}

/// `States.ALL`, or `A, B` for several names.
pub(crate) fn errors(names: &[String]) -> String {
    cut(&names.join(", "))
}

/// `Retry States.ALL ×3`: the errors and the attempts (AWS's default is 3).
pub(crate) fn retry(r: &Retrier) -> String {
    let attempts = r
        .max_attempts
        .as_ref()
        .map_or_else(|| "3".to_string(), scalar);
    cut(&format!("retry {} ×{attempts}", r.error_equals.join(", ")))
}
