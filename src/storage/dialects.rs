//! Each backend's connection as a [`TxConn`]: the statements whose text differs between
//! SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, SqliteConnection};

use super::outbox::{pg_insert_events, sqlite_insert_events};
use super::paying::{pg_log_decision, pg_pay_order, sqlite_log_decision, sqlite_pay_order};
use super::payment_rows::PaymentRecord;
use super::snapshot::{PG_LOAD, SQLITE_LOAD};
use super::txops::{Decision, PaidNotices, Paying, TxConn};
use crate::events::NewEvent;

impl TxConn for SqliteConnection {
    const FOR_UPDATE: &'static str = "";

    fn load_sql() -> &'static str {
        SQLITE_LOAD.as_str()
    }

    async fn insert_events(
        &mut self,
        events: &[NewEvent],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlite_insert_events(self, events, now).await
    }

    async fn insert_events_logged(
        &mut self,
        events: &[NewEvent],
        decision: &Decision<'_>,
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlite_insert_events(self, events, now).await?;
        let decision = Decision {
            payment_id: Some(payment_id),
            ..*decision
        };
        sqlite_log_decision(self, &decision, now).await
    }

    async fn pay_order(
        &mut self,
        p: &Paying<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<(PaymentRecord, PaidNotices)>, sqlx::Error> {
        sqlite_pay_order(self, p, now).await
    }

    async fn log_decision(
        &mut self,
        d: &Decision<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlite_log_decision(self, d, now).await
    }
}

impl TxConn for PgConnection {
    const FOR_UPDATE: &'static str = " for update";

    fn load_sql() -> &'static str {
        PG_LOAD.as_str()
    }

    async fn insert_events(
        &mut self,
        events: &[NewEvent],
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        pg_insert_events(self, events, &[], now).await
    }

    async fn insert_events_logged(
        &mut self,
        events: &[NewEvent],
        decision: &Decision<'_>,
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let decision = Decision {
            payment_id: Some(payment_id),
            ..*decision
        };
        pg_insert_events(self, events, &[&decision], now).await
    }

    async fn pay_order(
        &mut self,
        p: &Paying<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<(PaymentRecord, PaidNotices)>, sqlx::Error> {
        pg_pay_order(self, p, now).await
    }

    async fn log_decision(
        &mut self,
        d: &Decision<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        pg_log_decision(self, d, now).await
    }
}
