//! Wall-clock timestamps in milliseconds since the Unix epoch, printed as RFC 3339.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system(SystemTime::now())
    }

    pub fn from_system(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(d.as_millis() as i64),
            Err(e) => Timestamp(-(e.duration().as_millis() as i64)),
        }
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Time elapsed from `self` to `later` (zero if `later` is earlier).
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0).max(0) as u64)
    }

    #[must_use]
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.as_millis() as i64))
    }

    #[must_use]
    pub fn minus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(d.as_millis() as i64))
    }

    fn datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// `2026-11-25`, the UTC day.
    pub fn day(self) -> String {
        let d = self.datetime();
        format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }

    /// `14:03:07`, UTC.
    pub fn hms(self) -> String {
        let d = self.datetime();
        format!("{:02}:{:02}:{:02}", d.hour(), d.minute(), d.second())
    }

    /// `14:03`, UTC.
    pub fn hm(self) -> String {
        let d = self.datetime();
        format!("{:02}:{:02}", d.hour(), d.minute())
    }

    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let d = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        Some(Timestamp((d.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.datetime();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.millisecond()
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&raw)
            .ok_or_else(|| serde::de::Error::custom("timestamp must be RFC 3339"))
    }
}

/// `3s`, `4m05s`, `2h10m`, `3d04h`: short human durations for panes and tables.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A setting's duration in its largest whole unit: `14 days`, `36 h`, `90 s`.
pub fn whole_duration(d: Duration) -> String {
    match d.as_secs() {
        s if s > 0 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{s} s"),
    }
}

/// How an outage reads, the same in the dashboard and in the logs: `unreachable since 04:53:01,
/// retrying in 8s` (`failing since` when the endpoint answers with errors). Seconds round up, so a
/// wait under a second does not read as "now" until it is over.
pub fn outage_words(unreachable: bool, since: Timestamp, retry_in: Duration) -> String {
    let what = if unreachable {
        "unreachable"
    } else {
        "failing"
    };
    let when = if retry_in.is_zero() {
        "retrying now".to_string()
    } else {
        let secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
        format!("retrying in {}", short_duration(Duration::from_secs(secs)))
    };
    format!("{what} since {}, {when}", since.hms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_durations() {
        assert_eq!(whole_duration(Duration::from_hours(14 * 24)), "14 days");
        assert_eq!(whole_duration(Duration::from_hours(36)), "36 h");
        assert_eq!(whole_duration(Duration::from_secs(90)), "90 s");
    }

    #[test]
    fn outages_read_the_same_everywhere() {
        let since = Timestamp(1_764_072_187_000);
        assert_eq!(
            outage_words(true, since, Duration::from_millis(7200)),
            "unreachable since 12:03:07, retrying in 8s"
        );
        assert_eq!(
            outage_words(false, since, Duration::ZERO),
            "failing since 12:03:07, retrying now"
        );
    }

    #[test]
    fn round_trips_rfc3339() {
        let t = Timestamp(1_764_072_187_123);
        let s = t.to_string();
        assert_eq!(s, "2025-11-25T12:03:07.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&s), Some(t));
        assert_eq!(t.day(), "2025-11-25");
    }

    #[test]
    fn durations() {
        assert_eq!(short_duration(Duration::from_secs(59)), "59s");
        assert_eq!(short_duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(short_duration(Duration::from_mins(130)), "2h10m");
    }
}
