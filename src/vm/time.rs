//! Timestamps as ASL reads them: RFC 3339 with an offset (`Z` or `±hh:mm`) and an optional
//! fraction; compared at nanosecond precision.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use std::time::SystemTime;

/// Parses an ISO-8601 extended offset date-time (`2016-03-14T01:59:00Z`, `…+01:00`, `…​.123Z`).
/// Dates without a zone or with a space for `T` are rejected, as AWS rejects them.
pub fn parse_timestamp(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok()
}

/// `now` as AWS prints context times: `2024-01-01T00:00:00.123Z`.
pub fn iso_millis(t: SystemTime) -> String {
    let dt: DateTime<Utc> = t.into();
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_offsets_and_fractions_rejects_the_rest() {
        for ok in [
            "2016-03-14T01:59:00Z",
            "2016-03-14T01:59:00.123456789Z",
            "2016-03-14T01:59:00+01:00",
        ] {
            assert!(parse_timestamp(ok).is_some(), "{ok}");
        }
        for bad in [
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "05-12-2016T21:29:29Z",
            "2016-12-05T25:29:29Z",
            "",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }
}
