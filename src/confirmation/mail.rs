//! E-mailing the confirmation from the mail outbox: a row is committed with the money when the
//! payer gave an e-mail address (see the transition), this worker sends it with the PDF attached
//! and retries on a schedule. Whatever happens here, the payment is not touched: only the
//! outbox row records the outcome.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use super::texts::for_lang;
use crate::app::Services;
use crate::notifications::SmtpSettings;

/// Waits before the 2nd, 3rd, … try; after the last the mail is given up (`failed`).
const RETRY_AFTER: [i64; 5] = [30, 120, 600, 3600, 6 * 3600];
const POLL: Duration = Duration::from_secs(2);
/// Confirmations taken per pass; a full pass is followed at once by the next, so that a backlog
/// (after an SMTP outage, or a burst of payments) drains at the server's pace, not the poll's.
const BATCH: i64 = 20;
/// How long a taken confirmation is this worker's alone: longer than a batch can take even when
/// every send of the batch runs into the transport's 20-second timeouts. If the worker dies meanwhile,
/// the mail is due again when this runs out.
const LEASE_S: i64 = 30 * 60;

/// Runs the outbox until `stop` turns true.
pub async fn run(state: std::sync::Arc<Services>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = drain(&state, &stop).await {
                    tracing::warn!(error = %e, "mail outbox pass failed; will retry");
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// One pass over the due confirmations (tests call it directly); returns how many were sent.
pub async fn pass(state: &Services) -> anyhow::Result<usize> {
    Ok(take(state).await?.sent)
}

/// Passes until one takes less than a full batch (or `stop` turns true); returns how many
/// due confirmations were taken in all. With no mail server configured nothing can be sent:
/// due confirmations are marked skipped a few hundred per statement.
pub async fn drain(state: &Services, stop: &watch::Receiver<bool>) -> anyhow::Result<i64> {
    const SKIP_BATCH: i64 = 500;
    let mut total = 0;
    loop {
        let (taken, full) = if state.settings.notifications.smtp.is_none() {
            let skipped = state
                .store
                .skip_due_mails(state.clock.now(), NO_SMTP, SKIP_BATCH)
                .await?;
            (skipped, SKIP_BATCH)
        } else {
            (take(state).await?.taken, BATCH)
        };
        total += taken;
        if taken < full || *stop.borrow() {
            return Ok(total);
        }
    }
}

/// Why a confirmation is skipped when no mail server is configured.
const NO_SMTP: &str = "notifications.smtp is not configured";

/// What one pass did: how many due confirmations it took, and how many of them it sent.
struct Pass {
    taken: i64,
    sent: usize,
}

async fn take(state: &Services) -> anyhow::Result<Pass> {
    let now = state.clock.now();
    let mut sent = 0;
    let due = state
        .store
        .claim_due_mails(now, now + chrono::Duration::seconds(LEASE_S), BATCH)
        .await?;
    let taken = i64::try_from(due.len()).unwrap_or(BATCH);
    for due in due {
        let tries = due.tries + 1;
        let (status, next, error) = match send_one(state, &due.payment_id).await {
            Ok(Outcome::Sent) => {
                sent += 1;
                ("sent", now, None)
            }
            Ok(Outcome::Skipped(why)) => ("skipped", now, Some(why.to_owned())),
            Err(e) => {
                let wait = RETRY_AFTER.get(usize::try_from(due.tries).unwrap_or(usize::MAX));
                tracing::warn!(payment_id = %due.payment_id, tries, error = %e, "e-mailing a confirmation failed");
                match wait {
                    Some(secs) => (
                        "pending",
                        now + chrono::Duration::seconds(*secs),
                        Some(e.to_string()),
                    ),
                    None => ("failed", now, Some(e.to_string())),
                }
            }
        };
        let error: Option<String> = error.map(|e| e.chars().take(500).collect());
        state
            .store
            .mail_tried(&due.payment_id, status, tries, next, error.as_deref(), now)
            .await?;
    }
    Ok(Pass { taken, sent })
}

enum Outcome {
    Sent,
    Skipped(&'static str),
}

async fn send_one(state: &Services, payment_id: &str) -> anyhow::Result<Outcome> {
    let Some(smtp) = &state.settings.notifications.smtp else {
        return Ok(Outcome::Skipped(NO_SMTP));
    };
    let Some(record) = state.store.payment(payment_id).await? else {
        return Ok(Outcome::Skipped("no such payment"));
    };
    let lang = if record.payment.locale == "en" {
        "en"
    } else {
        "vi"
    };
    let confirmation = match super::load(state, &record, lang).await {
        Ok(c) => c,
        Err(super::ConfirmationError::NotPaid) => return Ok(Outcome::Skipped("not paid")),
        Err(e) => return Err(e.into()),
    };
    let Some(to) = confirmation
        .payer_email
        .as_deref()
        .and_then(|e| e.parse::<Mailbox>().ok())
    else {
        return Ok(Outcome::Skipped("the payer gave no usable e-mail address"));
    };
    let pdf = super::pdf::render(&confirmation)?;
    let message = compose(smtp, to, &confirmation, pdf)?;
    transport(smtp)?.send(message).await?;
    Ok(Outcome::Sent)
}

fn compose(
    smtp: &SmtpSettings,
    to: Mailbox,
    c: &super::Confirmation,
    pdf: Vec<u8>,
) -> anyhow::Result<Message> {
    let t = for_lang(c.lang);
    let dossier = c.dossier.clone().unwrap_or_else(|| c.payment_id.clone());
    let total = crate::money::format_vnd_plain(c.total);
    let body = format!(
        "{}\n\n{}: {dossier}\n{}: {total} đ\n{}: {}\n{}: {}\n",
        t.mail_body, t.dossier, t.total, t.in_words, c.total_words, t.number, c.confirmation_no
    ) + &format!("{} {}\n", t.verify, c.verify_url);
    let attachment = Attachment::new(format!("{}.pdf", c.confirmation_no))
        .body(pdf, ContentType::parse("application/pdf")?);
    Ok(Message::builder()
        .from(smtp.from.parse()?)
        .to(to)
        .subject(format!("{} {dossier}", t.mail_subject))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(body))
                .singlepart(attachment),
        )?)
}

fn transport(smtp: &SmtpSettings) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = if smtp.starttls {
        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?
    } else {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
    }
    Ok(builder.build())
}
