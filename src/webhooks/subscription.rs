//! Who receives an event: an endpoint's stored subscription list and agency, read with no I/O.
//! An unreadable list subscribes to nothing (the endpoint is disabled, and a warning names it).

/// The event types an endpoint's stored `events` list names; `None` when the list cannot be read.
/// An empty list or `*` takes every type.
pub fn subscription(events_json: &str) -> Option<Vec<String>> {
    serde_json::from_str(events_json).ok()
}

/// Says so when an endpoint's stored subscription list cannot be read: such an endpoint is
/// disabled (it receives no events) until it is subscribed again.
pub fn warn_if_disabled(endpoint_id: &str, events_json: &str) -> bool {
    let disabled = subscription(events_json).is_none();
    if disabled {
        tracing::warn!(
            %endpoint_id,
            "webhook endpoint disabled: its stored subscription list cannot be read, so it receives no events"
        );
    }
    disabled
}

/// Whether an endpoint (its id, its `events` list as stored JSON, its agency) wants an event.
/// An unreadable list subscribes to nothing: the endpoint is disabled, and a warning names it.
pub fn subscribes(
    endpoint_id: &str,
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
    let Some(events) = subscription(events_json) else {
        warn_if_disabled(endpoint_id, events_json);
        return false;
    };
    events.is_empty() || events.iter().any(|e| e == event_type || e == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_by_type_and_agency() {
        assert!(subscribes(
            "whe_1",
            r#"["payment.paid"]"#,
            None,
            "payment.paid",
            Some("HN")
        ));
        assert!(!subscribes(
            "whe_1",
            r#"["payment.paid"]"#,
            None,
            "payment.created",
            Some("HN")
        ));
        assert!(subscribes(
            "whe_1",
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            Some("HN")
        ));
        assert!(!subscribes(
            "whe_1",
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            Some("HCM")
        ));
        assert!(!subscribes(
            "whe_1",
            r#"["payment.paid"]"#,
            Some("HN"),
            "payment.paid",
            None
        ));
    }

    #[test]
    fn an_unreadable_list_subscribes_to_nothing() {
        for corrupt in ["not json", "{\"payment.paid\": true}", "[1, 2]", ""] {
            assert!(subscription(corrupt).is_none(), "{corrupt}");
            assert!(!subscribes("whe_1", corrupt, None, "payment.paid", None));
            assert!(warn_if_disabled("whe_1", corrupt));
        }
        assert!(subscribes("whe_1", "[]", None, "payment.paid", None));
        assert!(subscribes("whe_1", r#"["*"]"#, None, "payment.paid", None));
        assert!(!warn_if_disabled("whe_1", r#"["payment.paid"]"#));
    }
}
