//! Sending one delivery in its endpoint's format: landpay's own signed event, the OpenCPS
//! dossier action, or the DVCQG land-tax voucher (with a session from the adapter's auth
//! endpoint, cached until refused). Every format shares the outbox, retries and dead letters.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use reqwest::Url;
use serde_json::{json, Value};

use super::delivery::Refused;
use super::formats::{self, Credentials, DvcqgCredentials, OpencpsCredentials};
use crate::app::Services;
use crate::storage::webhooks::{ClaimedDelivery, EndpointRow};

/// What came back from one try.
pub struct Sent {
    pub status: u16,
    /// A 2xx that the format also counts as done.
    pub ok: bool,
    pub retry_after: Option<u64>,
    /// Why a 2xx was not done (the adapter's own status).
    pub note: Option<String>,
}

impl Sent {
    fn from(res: &reqwest::Response) -> Self {
        let retry_after = res
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let status = res.status().as_u16();
        Self {
            status,
            ok: (200..300).contains(&status),
            retry_after,
            note: None,
        }
    }
}

/// Sessions of DVCQG adapters, by endpoint id.
static SESSIONS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Mutex::default);

fn http_refused(e: reqwest::Error) -> Refused {
    Refused::Http(e)
}

/// The most of an answer's body a try reads: far more than any adapter's JSON status, and
/// little enough that a receiver cannot make a pass hold megabytes.
const ANSWER_LIMIT: usize = 64 * 1024;

/// Reads an answer's body to its end, refusing one longer than [`ANSWER_LIMIT`].
///
/// Every answer is read, even where only its status counts: an answer dropped unread closes
/// its connection, so each try would open a new one. Under a steady stream of paid IPNs that
/// was about a thousand TCP connections a second, set up and torn down on both sides. Read to
/// its end, the connection goes back to the client's pool for the next try. A body cut off at
/// the limit (or by the request timeout) closes its connection instead; the error says why,
/// to be recorded with the try.
async fn read_answer(mut res: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(None) => return Ok(body),
            Ok(Some(chunk)) if body.len() + chunk.len() <= ANSWER_LIMIT => {
                body.extend_from_slice(&chunk);
            }
            Ok(Some(_)) => {
                return Err(format!(
                    "the answer's body is longer than {ANSWER_LIMIT} bytes"
                ))
            }
            Err(e) => return Err(format!("reading the answer: {}", e.without_url())),
        }
    }
}

/// The status of an answer whose body does not count, read to its end (see [`read_answer`]).
async fn status_only(res: reqwest::Response) -> Sent {
    let sent = Sent::from(&res);
    // What the receiver said after its status changes nothing: a 2xx is delivered.
    let _ = read_answer(res).await;
    sent
}

/// Sends one delivery to `url` (already checked) in the endpoint's format.
pub(crate) async fn send(
    state: &Services,
    http: &reqwest::Client,
    endpoint: &EndpointRow,
    claimed: &ClaimedDelivery,
    body: String,
    url: Url,
    signature: String,
) -> Result<Sent, Refused> {
    let credentials: Option<Credentials> = endpoint
        .credentials
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok());
    match (endpoint.format.as_str(), credentials) {
        (formats::OPENCPS, Some(Credentials::Opencps(c))) => opencps(http, &c, &body, url).await,
        (formats::DVCQG_LAND_TAX, Some(Credentials::Dvcqg(c))) => {
            dvcqg(state, http, &endpoint.endpoint_id, &c, &body, url).await
        }
        (formats::LANDPAY, _) => {
            let res = http
                .post(url)
                .header("content-type", "application/json")
                .header("Landpay-Event-Id", &claimed.event_id)
                .header("Landpay-Event-Type", &claimed.event_type)
                .header("Landpay-Signature", signature)
                .body(body)
                .send()
                .await
                .map_err(http_refused)?;
            Ok(status_only(res).await)
        }
        _ => Err(Refused::Policy(
            "the endpoint's credentials are missing".into(),
        )),
    }
}

/// The OpenCPS dossier action for a paid order.
async fn opencps(
    http: &reqwest::Client,
    c: &OpencpsCredentials,
    body: &str,
    mut url: Url,
) -> Result<Sent, Refused> {
    let event: Value = serde_json::from_str(body).unwrap_or_default();
    let payment = &event["data"]["payment"];
    let dossier = payment["dossier_code"].as_str().unwrap_or_default();
    if dossier.is_empty() {
        return Err(Refused::Policy(
            "the order names no dossier to act on".into(),
        ));
    }
    let gateway = payment["attempts"]
        .as_array()
        .and_then(|a| a.iter().rev().find(|a| a["status"] == "succeeded"))
        .and_then(|a| a["gateway"].as_str())
        .unwrap_or_default()
        .to_owned();
    let action = match (&c.action_code_offline, gateway.as_str()) {
        (Some(off), "vietqr") if !off.is_empty() => off.clone(),
        _ => c.action_code.clone(),
    };
    let note = format!(
        "{} {}",
        payment["id"].as_str().unwrap_or_default(),
        payment["confirmation_no"].as_str().unwrap_or_default()
    );
    let payment_json = json!({
        "requestPayment": 5, "advanceAmount": 0, "feeAmount": payment["amount"].as_i64().unwrap_or(0),
        "serviceAmount": 0, "shipAmount": 0, "paymentNote": note.trim_end(),
        "paymentMethod": format!("landpay:{gateway}"), "confirmPayload": body,
    });
    if let Ok(mut segments) = url.path_segments_mut() {
        segments
            .pop_if_empty()
            .extend(["o", "rest", "v2", "dossiers", dossier, "actions"]);
    }
    let res = http
        .post(url)
        .basic_auth(&c.username, Some(&c.password))
        .header("groupId", &c.group_id)
        .form(&[
            ("actionCode", action),
            ("payment", payment_json.to_string()),
        ])
        .send()
        .await
        .map_err(http_refused)?;
    Ok(status_only(res).await)
}

/// `dd/MM/yyyy HH:mm:ss` in UTC+7.
fn vietnam_time(ts: &str) -> String {
    crate::storage::parse_ts(ts)
        .map(|t| {
            t.with_timezone(&crate::gateways::UTC_PLUS_7)
                .format("%d/%m/%Y %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// The `NhanChungTuThueDat` voucher of a paid notice.
async fn voucher(state: &Services, body: &str) -> Result<Value, Refused> {
    let event: Value = serde_json::from_str(body).unwrap_or_default();
    let data = &event["data"];
    let missing = || Refused::Policy("the notice or its payment is gone".into());
    let notice_id = data["notice_id"].as_str().ok_or_else(missing)?;
    let payment_id = data["payment_id"].as_str().ok_or_else(missing)?;
    let notice = state
        .store
        .notice(notice_id)
        .await
        .ok()
        .flatten()
        .ok_or_else(missing)?;
    let payment = state
        .store
        .payment(payment_id)
        .await
        .ok()
        .flatten()
        .ok_or_else(missing)?;
    let paid_at = payment.payment.paid_at.as_deref().map(vietnam_time);
    let pdf = crate::payments::service::visible_link(state, &payment, "/receipt.pdf");
    let dossier = notice
        .dossier_code
        .clone()
        .or(payment.payment.dossier_code.clone())
        .unwrap_or_default();
    Ok(json!({
        "MaHoSo": dossier,
        "HoTenNguoiNopTien": notice.taxpayer.name,
        "MaSoThue": notice.taxpayer.tax_code.clone().unwrap_or_default(),
        "UrlFileChungTu": pdf,
        "ThongTinThanhToan": {
            "MaThongBaoThue": notice.notice_no,
            "ThoiGianThanhToan": paid_at.unwrap_or_default(),
            "SoTien": notice.total,
            "NoiDungThanhToan": format!("Nộp tiền theo thông báo {} hồ sơ {dossier}", notice.notice_no),
            "TrangThaiThanhToan": 1,
        }
    }))
}

/// A session from the adapter's auth endpoint (cached until refused).
async fn session(
    state: &Services,
    http: &reqwest::Client,
    endpoint_id: &str,
    c: &DvcqgCredentials,
) -> Result<String, Refused> {
    if let Some(s) = SESSIONS
        .lock()
        .ok()
        .and_then(|m| m.get(endpoint_id).cloned())
    {
        return Ok(s);
    }
    let auth = super::url_policy::Policy::from_settings(&state.settings)
        .check_resolved(&c.auth_url)
        .await
        .map_err(|why| Refused::Policy(format!("the auth URL is refused: {why}")))?;
    let res = http
        .post(auth)
        .json(&json!({"username": c.username, "password": c.password}))
        .send()
        .await
        .map_err(http_refused)?;
    let body = read_answer(res).await.map_err(Refused::Policy)?;
    let answer: Value = serde_json::from_slice(&body)
        .map_err(|_| Refused::Policy("the adapter's auth answer is not JSON".into()))?;
    let s = answer["session"]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refused::Policy("the adapter gave no session".into()))?
        .to_owned();
    if let Ok(mut m) = SESSIONS.lock() {
        m.insert(endpoint_id.to_owned(), s.clone());
    }
    Ok(s)
}

/// Whether a DVCQG adapter's answer says success (`status`: "success", 1 or true).
fn adapter_ok(answer: &Value) -> bool {
    match &answer["status"] {
        Value::String(s) => s.eq_ignore_ascii_case("success") || s == "1",
        Value::Number(n) => n.as_i64() == Some(1),
        Value::Bool(b) => *b,
        _ => false,
    }
}

async fn dvcqg(
    state: &Services,
    http: &reqwest::Client,
    endpoint_id: &str,
    c: &DvcqgCredentials,
    body: &str,
    url: Url,
) -> Result<Sent, Refused> {
    let data = voucher(state, body).await?;
    let session = session(state, http, endpoint_id, c).await?;
    let res = http
        .post(url)
        .header("dstcode", &c.dstcode)
        .json(&json!({"session": session, "madonvi": c.madonvi, "service": "NhanChungTuThueDat", "data": data}))
        .send()
        .await
        .map_err(http_refused)?;
    let mut sent = Sent::from(&res);
    let answer = read_answer(res)
        .await
        .map(|b| serde_json::from_slice::<Value>(&b).unwrap_or_default());
    match answer {
        _ if !sent.ok => {}
        Ok(answer) if adapter_ok(&answer) => {}
        Ok(answer) => {
            sent.ok = false;
            let status: String = answer["status"].to_string().chars().take(100).collect();
            sent.note = Some(format!("the adapter answered status {status}"));
        }
        Err(why) => {
            sent.ok = false;
            sent.note = Some(why);
        }
    }
    if !sent.ok {
        // Refused: the next try asks for a new session.
        if let Ok(mut m) = SESSIONS.lock() {
            m.remove(endpoint_id);
        }
    }
    Ok(sent)
}
