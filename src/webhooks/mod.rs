//! Outbound webhooks to the procedure workflow: endpoints, signing and the delivery worker.

pub mod delivery;
pub mod formats;
pub mod signing;
pub mod url_policy;
pub mod workflow;

/// Whether an endpoint (its `events` list as stored JSON, its agency) wants an event.
pub fn subscribes(
    events_json: &str,
    endpoint_agency: Option<&str>,
    event_type: &str,
    event_agency: Option<&str>,
) -> bool {
    let agency_ok = match endpoint_agency {
        None => true,
        Some(a) => event_agency == Some(a),
    };
    if !agency_ok {
        return false;
    }
    let events: Vec<String> = serde_json::from_str(events_json).unwrap_or_default();
    events.is_empty() || events.iter().any(|e| e == event_type || e == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_by_type_and_agency() {
        assert!(subscribes(
            r#"["payment.paid"]"#,
            None,
            "payment.paid",
            Some("HN")
        ));
        assert!(!subscribes(
            r#"["payment.paid"]"#,
            None,
            "payment.created",
            Some("HN")
        ));
        assert!(subscribes(
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            Some("HN")
        ));
        assert!(!subscribes(
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            Some("HCM")
        ));
        assert!(!subscribes(
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            None
        ));
    }
}
