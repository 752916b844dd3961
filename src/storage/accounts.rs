//! People's accounts for the finance dashboard, their server-side sessions (only a hash of the
//! cookie is stored) and the record of every sign-in, failure, lock and sign-out.

use chrono::{DateTime, Utc};

use super::{in_write_tx, is_unique_violation, on_pool, on_writer, ts, unique, Store};
use crate::ids::AccountEventId;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub email: String,
    pub role: String,
    pub agency_code: Option<String>,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub disabled_at: Option<String>,
    pub locked_until: Option<String>,
    pub password_changed_at: String,
    pub created_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub email: String,
    pub csrf: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub revoked_at: Option<String>,
}

const USER_COLUMNS: &str = "email, role, agency_code, password_hash, totp_secret, disabled_at, locked_until, password_changed_at, created_at";

impl Store {
    /// Adds an account; `false` when the e-mail address is taken.
    pub async fn insert_user(&self, u: &UserRow) -> Result<bool, sqlx::Error> {
        let done = on_writer!(self, pool => {
            sqlx::query(
                "insert into finance_user (email, role, agency_code, password_hash, totp_secret, password_changed_at, created_at)
                 values ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&u.email)
            .bind(&u.role)
            .bind(&u.agency_code)
            .bind(&u.password_hash)
            .bind(&u.totp_secret)
            .bind(&u.password_changed_at)
            .bind(&u.created_at)
            .execute(pool)
            .await
                .map(|r| r.rows_affected())
        });
        match done {
            Ok(_) => Ok(true),
            Err(e) if is_unique_violation(&e, unique::FINANCE_USER) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn user(&self, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(&format!("select {USER_COLUMNS} from finance_user where email = $1"))
                .bind(email)
                .fetch_optional(pool)
                .await
        })
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(&format!("select {USER_COLUMNS} from finance_user order by email"))
                .fetch_all(pool)
                .await
        })
    }

    /// Disables an account and ends its sessions; `false` when there is no such account.
    pub async fn disable_user(&self, email: &str, now: DateTime<Utc>) -> anyhow::Result<bool> {
        in_write_tx!(self, tx => {
            let n = sqlx::query("update finance_user set disabled_at = coalesce(disabled_at, $2) where email = $1")
                .bind(email)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("update finance_session set revoked_at = $2 where email = $1 and revoked_at is null")
                .bind(email)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Replaces a password, lifts a lock and ends every session of the account.
    pub async fn set_password(
        &self,
        email: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        in_write_tx!(self, tx => {
            let n = sqlx::query(
                "update finance_user set password_hash = $2, password_changed_at = $3, locked_until = null where email = $1",
            )
            .bind(email)
            .bind(hash)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("update finance_session set revoked_at = $2 where email = $1 and revoked_at is null")
                .bind(email)
                .bind(ts(now))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    /// Records a sign-in, a failure, a lock, a sign-out or an account change.
    pub async fn account_event(
        &self,
        email: &str,
        kind: &str,
        ip: Option<&str>,
        detail: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "insert into account_event (event_id, email, type, ip, detail, created_at) values ($1, $2, $3, $4, $5, $6)",
            )
            .bind(AccountEventId::new())
            .bind(email)
            .bind(kind)
            .bind(ip)
            .bind(detail)
            .bind(ts(now))
            .execute(pool)
            .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// An account's recorded events, oldest first.
    pub async fn account_events(
        &self,
        email: &str,
    ) -> Result<Vec<(String, Option<String>, Option<String>, String)>, sqlx::Error> {
        on_pool!(self, pool => {
            sqlx::query_as(
                "select type, ip, detail, created_at from account_event where email = $1 order by created_at, event_id",
            )
            .bind(email)
            .fetch_all(pool)
            .await
        })
    }

    /// Failed sign-ins of an account after `since` and after its last successful sign-in.
    pub async fn failures_since(
        &self,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, sqlx::Error> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "select count(*) from account_event
                 where email = $1 and type = 'sign_in.failed' and created_at > $2
                   and created_at > coalesce((select max(created_at) from account_event
                                              where email = $1 and type = 'sign_in.succeeded'), '')",
            )
            .bind(email)
            .bind(ts(since))
            .fetch_one(pool)
            .await
        })?;
        Ok(n)
    }

    pub async fn lock_user(&self, email: &str, until: DateTime<Utc>) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query("update finance_user set locked_until = $2 where email = $1")
                .bind(email)
                .bind(ts(until))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Uses up a TOTP time step: `false` when that step (or a later one) was already used.
    pub async fn use_totp_step(&self, email: &str, step: i64) -> Result<bool, sqlx::Error> {
        let n = on_writer!(self, pool => {
            sqlx::query(
                "update finance_user set totp_last_step = $2
                 where email = $1 and (totp_last_step is null or totp_last_step < $2)",
            )
            .bind(email)
            .bind(step)
            .execute(pool)
            .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    pub async fn insert_session(
        &self,
        token_hash: &str,
        email: &str,
        csrf: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query(
                "insert into finance_session (token_hash, email, csrf, created_at, last_seen_at) values ($1, $2, $3, $4, $4)",
            )
            .bind(token_hash)
            .bind(email)
            .bind(csrf)
            .bind(ts(now))
            .execute(pool)
            .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// A session by the hash of its cookie, with its account.
    pub async fn session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(SessionRow, UserRow)>, sqlx::Error> {
        let session: Option<SessionRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "select email, csrf, created_at, last_seen_at, revoked_at from finance_session where token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?;
        let Some(session) = session else {
            return Ok(None);
        };
        Ok(self.user(&session.email).await?.map(|u| (session, u)))
    }

    pub async fn touch_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        on_writer!(self, pool => {
            sqlx::query("update finance_session set last_seen_at = $2 where token_hash = $1 and revoked_at is null")
                .bind(token_hash)
                .bind(ts(now))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Ends a session; `false` when it had already ended.
    pub async fn revoke_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let n = on_writer!(self, pool => {
            sqlx::query("update finance_session set revoked_at = $2 where token_hash = $1 and revoked_at is null")
                .bind(token_hash)
                .bind(ts(now))
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }
}
