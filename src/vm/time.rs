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
// PERF: w5_credit: written digit by digit (chrono's RFC 3339 writer went through `fmt`), chrono
// kept for times before 1970 or after 9999.
pub fn iso_millis(t: SystemTime) -> String {
    let since = t.duration_since(std::time::UNIX_EPOCH).ok();
    let Some(d) = since.filter(|d| d.as_secs() < 253_402_300_800) else {
        let dt: DateTime<Utc> = t.into();
        return dt.to_rfc3339_opts(SecondsFormat::Millis, true);
    };
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let mut out = [0u8; 24];
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, y as u64);
    put(5, 2, u64::from(m));
    put(8, 2, u64::from(day));
    put(11, 2, rem / 3600);
    put(14, 2, rem % 3600 / 60);
    put(17, 2, rem % 60);
    put(20, 3, u64::from(d.subsec_millis()));
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        out[i] = c;
    }
    out.iter().map(|&b| b as char).collect()
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_millis_prints_as_chrono_does() {
        let chrono_millis = |t: SystemTime| {
            let dt: DateTime<Utc> = t.into();
            dt.to_rfc3339_opts(SecondsFormat::Millis, true)
        };
        let mut ms: u64 = 0;
        // Every day boundary and leap day from 1970 to 2110, at a varying time of day.
        while ms < 4_400_000_000_000 {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
            assert_eq!(iso_millis(t), chrono_millis(t), "{ms}");
            ms += 86_400_000 - 7_777;
        }
        for t in [
            std::time::UNIX_EPOCH - std::time::Duration::from_millis(1),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_800),
            SystemTime::now(),
        ] {
            assert_eq!(iso_millis(t), chrono_millis(t));
        }
    }

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
