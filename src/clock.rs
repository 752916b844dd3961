//! The service's notion of now. Production reads the system clock; tests may move it forward
//! (to reach a due date or an expiry) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use anyhow::Context;
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};

/// Vietnam's offset (UTC+7, no daylight saving): dates in the API are dates there.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// The calendar date of `t` in Vietnam.
pub fn vietnam_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam()).date_naive()
}

/// The one form of a time, stored and on the wire: fixed-width UTC with microseconds, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a stored time back.
pub fn parse_ts(text: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("stored time `{text}`"))?
        .with_timezone(&Utc))
}

#[derive(Debug, Default)]
pub struct Clock {
    skew_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.skew_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock forward (tests only reach for this).
    pub fn advance(&self, by: chrono::Duration) {
        self.skew_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
