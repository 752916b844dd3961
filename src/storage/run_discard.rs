//! Discarding a reconciliation run that could not finish.

use super::{in_write_tx, Store};

impl Store {
    /// Removes a run that did not finish, with its findings, and reopens the earlier findings
    /// it had closed; a run that finished is left alone.
    pub async fn discard_run(&self, rec_id: &str) -> Result<(), sqlx::Error> {
        in_write_tx!(self, tx => {
            let running: Option<(String,)> =
                sqlx::query_as("select rec_id from reconciliation where rec_id = $1 and status = 'running'")
                    .bind(rec_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if running.is_some() {
                sqlx::query("update reconciliation_item set status = 'open', resolved_by = null where resolved_by = $1")
                    .bind(rec_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("delete from reconciliation_item where rec_id = $1")
                    .bind(rec_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("delete from reconciliation where rec_id = $1")
                    .bind(rec_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
