//! `limit` and opaque `cursor` for list endpoints; bodies are `{"data": [...], "next_cursor": …}`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// A validated page request: at most `limit` items after `after` (a sort key).
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid_field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    // Keys are ids and times: a control character (NUL above all, which
                    // PostgreSQL text cannot hold) means the cursor was not issued here.
                    .filter(|key| !key.chars().any(char::is_control))
                    .ok_or_else(|| {
                        ApiError::invalid_field("cursor", "is not a cursor this service issued")
                    })?,
            ),
        };
        Ok(Self { limit, after })
    }

    /// Ask the store for one more than the limit, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// For a use case that checks the resource before the page request: what to fetch (the
    /// cursor's key and `fetch_limit`) or why the request is refused, and the request to build
    /// the page from once the items are back.
    pub fn parse_deferred(
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> (Result<(Option<String>, i64), ApiError>, Self) {
        match Self::parse(limit, cursor) {
            Ok(p) => (Ok((p.after.clone(), p.fetch_limit())), p),
            Err(e) => (
                Err(e),
                Self {
                    limit: 0,
                    after: None,
                },
            ),
        }
    }
}

#[derive(Serialize)]
pub struct Page<T: Serialize> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Page<T> {
    /// Cuts `items` (fetched with `fetch_limit`) to the page, with a cursor from the last key.
    pub fn build(mut items: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> String) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more {
            items.last().map(|t| URL_SAFE_NO_PAD.encode(key(t)))
        } else {
            None
        };
        Self {
            data: items,
            next_cursor,
        }
    }
}
