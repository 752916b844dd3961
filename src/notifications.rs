//! `notifications.smtp`: where the payer's confirmation is e-mailed from. Absent, nothing is
//! sent (the confirmation stays on its page and with the portal).

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Secret};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
}

/// An SMTP relay that accepts the service's mail.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `Sở Tài nguyên và Môi trường <no-reply@example.gov.vn>` or a bare address.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// Upgrade the connection with STARTTLS (required when on; off only for a relay on a
    /// trusted network).
    #[serde(default = "default_starttls")]
    pub starttls: bool,
}

fn default_port() -> u16 {
    587
}

fn default_starttls() -> bool {
    true
}

impl NotificationSettings {
    /// Structural checks, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let Some(smtp) = &self.smtp else {
            return Ok(());
        };
        if smtp.host.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "notifications.smtp.host".into(),
                message: "must name the SMTP relay".into(),
            });
        }
        if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                key: "notifications.smtp.from".into(),
                message: "must be an e-mail address, optionally with a name: `Name <a@b.vn>`"
                    .into(),
            });
        }
        if smtp.password.is_some() && smtp.username.is_none() {
            return Err(ConfigError::Invalid {
                key: "notifications.smtp.username".into(),
                message: "is required with notifications.smtp.password".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{NotificationSettings, SmtpSettings};

    fn smtp(from: &str, username: Option<&str>, password: Option<&str>) -> NotificationSettings {
        NotificationSettings {
            smtp: Some(SmtpSettings {
                host: "smtp.example.vn".into(),
                port: 587,
                from: from.into(),
                username: username.map(str::to_owned),
                password: password.map(crate::config::Secret::new),
                starttls: true,
            }),
        }
    }

    #[test]
    fn a_bad_sender_or_a_password_without_user_names_the_key() {
        assert!(NotificationSettings::default().validate().is_ok());
        assert!(smtp("Cổng thanh toán <no-reply@example.vn>", None, None)
            .validate()
            .is_ok());
        let e = smtp("not an address", None, None).validate().unwrap_err();
        assert!(e.to_string().contains("notifications.smtp.from"), "{e}");
        let e = smtp("a@example.vn", None, Some("p"))
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("notifications.smtp.username"), "{e}");
    }
}
