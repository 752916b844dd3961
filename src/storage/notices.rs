//! Notices and their lines.

use chrono::{DateTime, Utc};
use std::sync::LazyLock;

use super::kept::on_lookup_conn;
use super::{in_write_tx, is_unique_violation, on_pool, ts, unique, Store};
use crate::ids::{new_id, IdKind};
use crate::notices::{NewNotice, Notice, NoticeLine};

/// What registering a notice found.
#[derive(Debug, PartialEq, Eq)]
pub enum NoticeInsert {
    Created(String),
    /// The number was known: `same` tells whether the content matches.
    Existing {
        id: String,
        same: bool,
    },
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    notice_id: String,
    notice_no: String,
    agency_code: Option<String>,
    dossier_code: Option<String>,
    issued_at: String,
    taxpayer: String,
    treasury: String,
    status: String,
    created_at: String,
}

/// A notice row with its lines as a JSON array (`lines_json`).
#[derive(sqlx::FromRow)]
struct NoticeWithLines {
    #[sqlx(flatten)]
    notice: NoticeRow,
    lines_json: String,
}

/// `'col', col, …` of the line columns, for a JSON object per line.
fn line_pairs() -> String {
    LINE_COLUMNS
        .split(',')
        .map(str::trim)
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Notices with their lines (in position order, as a JSON array `lines_json`) in one query:
/// `tail` filters and orders the notices, aliased `n`.
fn notices_sql(postgres: bool, tail: &str) -> String {
    let lines = if postgres {
        format!(
            "coalesce((select json_agg(json_build_object({}) order by position)
                       from notice_line l where l.notice_id = n.notice_id), '[]')::text",
            line_pairs()
        )
    } else {
        format!(
            "coalesce((select json_group_array(json_object({})) from
                       (select * from notice_line l where l.notice_id = n.notice_id order by position)), '[]')",
            line_pairs()
        )
    };
    format!("select {NOTICE_COLUMNS}, {lines} as lines_json from notice n {tail}")
}

const ONE: &str = "where notice_id = $1";
const PAGE: &str =
    "where ($1 is null or dossier_code = $1) and ($2 is null or agency_code = $2) and notice_id > $3
     order by notice_id limit $4";

static PG_NOTICE: LazyLock<String> = LazyLock::new(|| notices_sql(true, ONE));
static SQLITE_NOTICE: LazyLock<String> = LazyLock::new(|| notices_sql(false, ONE));
static PG_NOTICES: LazyLock<String> = LazyLock::new(|| notices_sql(true, PAGE));
static SQLITE_NOTICES: LazyLock<String> = LazyLock::new(|| notices_sql(false, PAGE));

impl NoticeWithLines {
    fn into_notice(self) -> Result<Notice, sqlx::Error> {
        let lines: Vec<LineRow> =
            serde_json::from_str(&self.lines_json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        notice_of(self.notice, lines)
    }
}

#[derive(sqlx::FromRow, serde::Deserialize)]
struct LineRow {
    notice_line_id: String,
    chapter: Option<String>,
    sub_item: String,
    name: String,
    amount: i64,
    due_date: String,
    interest_sub_item: Option<String>,
    status: String,
    paid_at: Option<String>,
}

impl From<LineRow> for NoticeLine {
    fn from(r: LineRow) -> Self {
        NoticeLine {
            id: r.notice_line_id,
            chapter: r.chapter,
            sub_item: r.sub_item,
            name: r.name,
            amount: r.amount,
            due_date: r.due_date,
            interest_sub_item: r.interest_sub_item,
            status: r.status,
            paid_at: r.paid_at,
        }
    }
}

const NOTICE_COLUMNS: &str =
    "notice_id, notice_no, agency_code, dossier_code, issued_at, taxpayer, treasury, status, created_at";
const LINE_COLUMNS: &str =
    "notice_line_id, chapter, sub_item, name, amount, due_date, interest_sub_item, status, paid_at";

/// The notice of the same number in the same agency: numbers are unique per agency only.
const SAME_NUMBER: &str = "select notice_id, content_hash from notice
     where notice_no = $1 and coalesce(agency_code, '') = $2";

impl Store {
    /// Registers a notice once per number and agency; a repeat reports whether its content matched.
    pub async fn insert_notice(
        &self,
        notice: &NewNotice,
        agency: Option<&str>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<NoticeInsert, sqlx::Error> {
        match self
            .try_insert_notice(notice, agency, created_by, now)
            .await
        {
            Err(e) if is_unique_violation(&e, unique::NOTICE_NUMBER) => {
                self.existing_notice(notice, agency).await
            }
            other => other,
        }
    }

    async fn existing_notice(
        &self,
        notice: &NewNotice,
        agency: Option<&str>,
    ) -> Result<NoticeInsert, sqlx::Error> {
        let (id, hash): (String, String) = on_pool!(self, pool => {
            sqlx::query_as(SAME_NUMBER)
                .bind(&notice.input.notice_no)
                .bind(agency.unwrap_or(""))
                .fetch_one(pool)
                .await
        })?;
        Ok(NoticeInsert::Existing {
            id,
            same: hash == notice.content_hash,
        })
    }

    async fn try_insert_notice(
        &self,
        notice: &NewNotice,
        agency: Option<&str>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<NoticeInsert, sqlx::Error> {
        let input = &notice.input;
        let taxpayer = serde_json::to_string(&input.taxpayer).unwrap_or_default();
        let treasury = serde_json::to_string(&input.treasury).unwrap_or_default();
        in_write_tx!(self, tx => {
            let known: Option<(String, String)> =
                sqlx::query_as(SAME_NUMBER)
                    .bind(&input.notice_no)
                    .bind(agency.unwrap_or(""))
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id, hash)) = known {
                tx.commit().await?;
                return Ok(NoticeInsert::Existing { id, same: hash == notice.content_hash });
            }
            let id = new_id(IdKind::Notice);
            sqlx::query(
                "insert into notice (notice_id, notice_no, agency_code, dossier_code, issued_at, taxpayer, treasury,
                                     content_hash, status, created_by, created_at, updated_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, 'unpaid', $9, $10, $10)",
            )
            .bind(&id)
            .bind(&input.notice_no)
            .bind(agency)
            .bind(&input.dossier_code)
            .bind(ts(notice.issued_at))
            .bind(&taxpayer)
            .bind(&treasury)
            .bind(&notice.content_hash)
            .bind(created_by)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            for (i, (line, due)) in input.lines.iter().zip(&notice.due_dates).enumerate() {
                sqlx::query(
                    "insert into notice_line (notice_line_id, notice_id, position, chapter, sub_item, name, amount,
                                              due_date, interest_sub_item, status)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'unpaid')",
                )
                .bind(new_id(IdKind::NoticeLine))
                .bind(&id)
                .bind(i64::try_from(i).unwrap_or(i64::MAX))
                .bind(&line.chapter)
                .bind(&line.sub_item)
                .bind(&line.name)
                .bind(line.amount)
                .bind(due.format("%Y-%m-%d").to_string())
                .bind(&line.interest_sub_item)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(NoticeInsert::Created(id))
        })
    }

    /// One notice with its lines.
    pub async fn notice(&self, id: &str) -> Result<Option<Notice>, sqlx::Error> {
        // The notice and its lines in one round trip: the lines as a JSON array.
        let sql = match self.backend() {
            super::Backend::Postgres => PG_NOTICE.as_str(),
            super::Backend::Sqlite => SQLITE_NOTICE.as_str(),
        };
        let row: Option<NoticeWithLines> = on_lookup_conn!(self, conn => {
            sqlx::query_as(sql).bind(id).fetch_optional(conn).await
        })?;
        row.map(NoticeWithLines::into_notice).transpose()
    }

    /// The notice a line belongs to.
    pub async fn notice_of_line(&self, line_id: &str) -> Result<Option<Notice>, sqlx::Error> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("select notice_id from notice_line where notice_line_id = $1")
                .bind(line_id)
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some((id,)) => self.notice(&id).await,
            None => Ok(None),
        }
    }

    /// Notices of a dossier (or all), oldest first, after `cursor` (a notice id).
    pub async fn notices(
        &self,
        dossier_code: Option<&str>,
        agency: Option<&str>,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Notice>, sqlx::Error> {
        let sql = match self.backend() {
            super::Backend::Postgres => PG_NOTICES.as_str(),
            super::Backend::Sqlite => SQLITE_NOTICES.as_str(),
        };
        let rows: Vec<NoticeWithLines> = on_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(dossier_code)
                .bind(agency)
                .bind(cursor.unwrap_or(""))
                .bind(limit)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(NoticeWithLines::into_notice).collect()
    }
}

/// A notice from its row and its lines (in position order).
fn notice_of(row: NoticeRow, lines: Vec<LineRow>) -> Result<Notice, sqlx::Error> {
    let lines: Vec<NoticeLine> = lines.into_iter().map(NoticeLine::from).collect();
    let decode = |e: serde_json::Error| sqlx::Error::Decode(Box::new(e));
    Ok(Notice {
        id: row.notice_id,
        notice_no: row.notice_no,
        issued_at: row.issued_at,
        agency_code: row.agency_code,
        dossier_code: row.dossier_code,
        taxpayer: serde_json::from_str(&row.taxpayer).map_err(decode)?,
        treasury: serde_json::from_str(&row.treasury).map_err(decode)?,
        status: row.status,
        total: lines.iter().map(|l| l.amount).sum(),
        lines,
        created_at: row.created_at,
    })
}
