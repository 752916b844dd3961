//! Retention of personal data: payer and taxpayer names and numbers of orders closed longer ago
//! than `retention.personal_data` are replaced; amounts, references and statuses stay.

use chrono::{DateTime, Utc};

use super::{in_write_tx, ts, Store};

/// What an anonymised payer or taxpayer holds.
pub const ANONYMISED_PAYER: &str = r#"{"name":"[anonymised]"}"#;
pub const ANONYMISED_TAXPAYER: &str = r#"{"name":"[anonymised]","tax_code":null,"id_no":null}"#;

const CLOSED: &str = "('paid', 'expired', 'cancelled', 'partially_refunded', 'refunded')";

impl Store {
    /// Anonymises orders closed before `cutoff` and the notices they paid, unless a notice is
    /// still in a younger or live order. Returns (orders, notices) changed.
    pub async fn anonymise_closed_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<(u64, u64), sqlx::Error> {
        let cutoff = ts(cutoff);
        let old_orders =
            format!("select payment_id from payment where status in {CLOSED} and updated_at < $1");
        let payments_sql = format!(
            "update payment set payer = $2 where payer <> $2 and payment_id in ({old_orders})"
        );
        let notices_sql = format!(
            "update notice set taxpayer = $2
             where taxpayer <> $2 and updated_at < $1
               and notice_id in (select pl.source from payment_line pl where pl.payment_id in ({old_orders}))
               and notice_id not in (
                   select pl.source from payment_line pl join payment p on p.payment_id = pl.payment_id
                   where p.status not in {CLOSED} or p.updated_at >= $1)"
        );
        // A first pass over years of closed orders may take minutes: the sweep waits
        // `deadline::LONG`, not the requests' `database.timeout`.
        let sweep = self.long();
        in_write_tx!(sweep, tx => {
            let orders = sqlx::query(&payments_sql)
                .bind(&cutoff)
                .bind(ANONYMISED_PAYER)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let notices = sqlx::query(&notices_sql)
                .bind(&cutoff)
                .bind(ANONYMISED_TAXPAYER)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok((orders, notices))
        })
    }
}
