//! Notices as the portal registers and reads them: a registration is idempotent on the
//! notice's number and content; lists show personal numbers masked.

use crate::app::Services;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::ids::NoticeId;
use crate::notices::{validate, Notice, NoticeInput};
use crate::storage::notices::NoticeInsert;

/// A registered notice, and whether this registration created it (`false`: it was known).
pub struct Registered {
    pub notice: Notice,
    pub created: bool,
}

/// Registers a notice under the caller's agency; the same notice again answers the stored one,
/// the same number with other content is a conflict.
pub async fn register(
    state: &Services,
    caller: &Caller,
    input: NoticeInput,
) -> Result<Registered, ApiError> {
    let agency = caller.agency_for_new(input.agency_code.as_deref(), "agency_code")?;
    let notice = validate(input).map_err(ApiError::invalid)?;
    let outcome = state
        .store
        .insert_notice(&notice, agency.as_deref(), &caller.sub, state.clock.now())
        .await?;
    let (id, created) = match outcome {
        NoticeInsert::Created(id) => (id, true),
        NoticeInsert::Existing { id, same: true } => (id, false),
        NoticeInsert::Existing { same: false, .. } => {
            return Err(ApiError::Conflict(
                "a notice with this notice_no is registered with different content".into(),
            ))
        }
    };
    Ok(Registered {
        notice: visible_stored(state, caller, &id).await?,
        created,
    })
}

/// A notice the caller may see (404 otherwise), personal numbers whole.
pub async fn visible(state: &Services, caller: &Caller, id: &NoticeId) -> Result<Notice, ApiError> {
    visible_stored(state, caller, id.as_str()).await
}

/// A notice the caller may see by the id the store gave it (404 otherwise).
async fn visible_stored(state: &Services, caller: &Caller, id: &str) -> Result<Notice, ApiError> {
    state
        .store
        .notice(id)
        .await?
        .filter(|n| caller.can_see(n.agency_code.as_deref()))
        .ok_or_else(|| ApiError::NotFound(format!("notice {id}")))
}

/// Up to `limit` notices the caller may see after `cursor`, oldest id first, personal numbers
/// masked.
pub async fn list(
    state: &Services,
    caller: &Caller,
    dossier_code: Option<&str>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Vec<Notice>, ApiError> {
    let items = state
        .store
        .notices(dossier_code, caller.agency_scope(), cursor, limit)
        .await?;
    Ok(items
        .into_iter()
        .map(|mut n| {
            n.taxpayer = n.taxpayer.masked();
            n
        })
        .collect())
}
