//! VietQR (NAPAS 247) dynamic/static bank-transfer QR codes.
//! No callback exists: payment is matched from bank statements on the reference in 62/08.

pub mod banks;
pub mod emv;
pub mod svg;

use futures_util::future::BoxFuture;

use crate::gateways::adapters::{
    AttemptRef, GatewayFailure, PaymentGateway, QueryOutcome, RefundOutcome, StartRequest, Started,
};
use crate::gateways::{ascii, GatewayId};

/// The Vietqr adapter (HTTP calls; the wire format is in this module).
pub struct Adapter {
    pub(crate) bank_bin: String,
    pub(crate) account_no: String,
    pub(crate) account_name: String,
}

impl PaymentGateway for Adapter {
    fn id(&self) -> GatewayId {
        GatewayId::Vietqr
    }

    fn start<'a>(
        &'a self,
        req: &'a StartRequest,
    ) -> BoxFuture<'a, Result<Started, GatewayFailure>> {
        Box::pin(async move {
            let payload = emv::build_payload(&emv::VietQr {
                bank_bin: self.bank_bin.clone(),
                account_no: self.account_no.clone(),
                service: emv::Service::ToAccount,
                amount_vnd: Some(req.amount_vnd),
                purpose: Some(req.txn_ref.clone()),
                merchant_name: Some(ascii::sanitize(&self.account_name, 25)),
                merchant_city: None,
            })?;
            let svg = svg::render_svg(&payload)?;
            Ok(Started::Qr {
                payload,
                svg,
                reference: req.txn_ref.clone(),
            })
        })
    }

    /// Bank transfers have no status API: the statement import (reconciliation) settles them.
    fn query<'a>(
        &'a self,
        _attempt: &'a AttemptRef,
    ) -> BoxFuture<'a, Result<QueryOutcome, GatewayFailure>> {
        Box::pin(async move { Ok(QueryOutcome::Pending) })
    }

    fn refund<'a>(
        &'a self,
        _attempt: &'a AttemptRef,
        _amount_vnd: i64,
        _full: bool,
        _operator: &'a str,
    ) -> BoxFuture<'a, Result<RefundOutcome, GatewayFailure>> {
        Box::pin(async move { Ok(RefundOutcome::Manual) })
    }
}
