//! The service's notion of now. Production reads the system clock; tests may move it forward
//! (to reach a due date or an expiry) without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Vietnam's offset (UTC+7, no daylight saving): dates in the API are dates there.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
}

/// The calendar date of `t` in Vietnam.
pub fn vietnam_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam()).date_naive()
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
