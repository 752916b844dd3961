//! Browser returns from the gateways: verified, never changing state (PayGov's aside); they
//! lead the payer to the result page, except a stale VNPay return, which leads nowhere.

use std::collections::HashMap;

use crate::app::Services;
use crate::gateways::callback::{adapter, query_has_nul};
use crate::gateways::paygov::callback::returns_are_signed;
use crate::gateways::GatewayId;
use crate::payments::credentials;
use crate::payments::service::visible_link;
use crate::storage::payments::AttemptRow;

/// Where a browser return leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnPage {
    /// The payer's result page (a full link with a fresh token).
    Result(String),
    /// The return does not verify.
    BadLink,
    /// No payment has that reference.
    NotFound,
    /// Verified, but its attempt is settled and older than an attempt's life: a return query
    /// never expires, so an old one no longer leads to a payer link.
    Expired,
}

/// A verified browser return of `gateway` (VNPay, MoMo, ZaloPay, DVCQG); PayGov's is
/// [`paygov_return`].
pub async fn browser_return(state: &Services, gateway: GatewayId, query: &str) -> ReturnPage {
    let Some(adapter) = adapter(gateway) else {
        return ReturnPage::BadLink;
    };
    let claimed = adapter.claimed_return_reference(query);
    // Unknown references and errors here verify under the default credentials.
    let agency = credentials::agency_of_reference(state, claimed.as_deref())
        .await
        .unwrap_or_default();
    let Some(reference) = adapter.verify_return(&state.settings, agency.as_deref(), query) else {
        return ReturnPage::BadLink;
    };
    if gateway == GatewayId::Vnpay {
        if let Ok(Some(attempt)) = state.store.attempt_by_ref(&reference).await {
            if is_stale(state, &attempt) {
                return ReturnPage::Expired;
            }
        }
    }
    result_page(state, &reference).await
}

/// An attempt no longer open whose life (`payments.attempt_ttl`) is over.
fn is_stale(state: &Services, attempt: &AttemptRow) -> bool {
    let ttl = chrono::Duration::from_std(state.settings.payments.attempt_ttl.0)
        .unwrap_or_else(|_| chrono::Duration::minutes(15));
    let old = crate::storage::parse_ts(&attempt.created_at)
        .map_or(true, |created| created + ttl < state.clock.now());
    !attempt.status.is_open() && old
}

/// The result page of the payment that `txn_ref` belongs to.
pub async fn result_page(state: &Services, txn_ref: &str) -> ReturnPage {
    let Ok(Some(attempt)) = state.store.attempt_by_ref(txn_ref).await else {
        return ReturnPage::NotFound;
    };
    match state.store.payment(&attempt.payment_id).await {
        Ok(Some(record)) => ReturnPage::Result(visible_link(state, &record, "/result")),
        _ => ReturnPage::NotFound,
    }
}

/// Where a PayGov return leads, and the verdict of the callback it was decided as (if it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaygovReturn {
    pub page: ReturnPage,
    pub verdict: Option<&'static str>,
}

/// PayGov's browser return. Without a configured return checksum it only moves the attempt to
/// `unknown` ("received, being confirmed") and a settlement file records the money; with one,
/// a return whose checksum verifies is decided like a callback.
pub async fn paygov_return(state: &Services, query: &str) -> PaygovReturn {
    let done = |page, verdict| PaygovReturn { page, verdict };
    if query_has_nul(query) || query.len() > 8192 {
        return done(ReturnPage::BadLink, None);
    }
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let order_id = params.get("orderId").cloned().unwrap_or_default();
    if !returns_are_signed(&state.settings) {
        let paid = params.get("errorCode").map(String::as_str) == Some("00");
        let known = if paid {
            super::super::rails::paygov_returned_unconfirmed(state, &order_id).await
        } else {
            Ok(true)
        };
        return match known {
            Ok(true) => done(result_page(state, &order_id).await, None),
            Ok(false) => done(ReturnPage::BadLink, None),
            Err(e) => {
                tracing::error!(error = ?e, "PayGov return failed");
                done(ReturnPage::BadLink, None)
            }
        };
    }
    let Some(adapter) = adapter(GatewayId::Paygov) else {
        return done(ReturnPage::BadLink, None);
    };
    let Ok(event) = adapter.verify(&state.settings, None, query.as_bytes()) else {
        return done(ReturnPage::BadLink, None);
    };
    match super::decide(state, adapter, &event, query.as_bytes()).await {
        Ok(outcome) => done(result_page(state, &order_id).await, Some(outcome.verdict())),
        Err(e) => {
            tracing::error!(error = ?e, "PayGov return failed");
            let undecided = matches!(e, super::ReceiveError::Undecided(_));
            done(ReturnPage::BadLink, undecided.then_some("error"))
        }
    }
}
