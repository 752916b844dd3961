//! Origins that the payer's forms may lead to (after our redirect): the configured gateways.

use crate::http::state::AppState;

/// Origins that a payment form may lead to (after our redirect): the configured gateways.
pub fn form_targets(state: &AppState) -> String {
    let g = &state.settings.gateways;
    let mut out = String::new();
    let mut add = |url: &str| {
        if let Some(origin) = origin(url) {
            out.push(' ');
            out.push_str(&origin);
        }
    };
    if g.vnpay.enabled {
        add(&g.vnpay.payment_url);
    }
    if g.momo.enabled {
        add(&g.momo.endpoint);
        add("https://*.momo.vn");
    }
    if g.zalopay.enabled {
        add(&g.zalopay.endpoint);
        add("https://*.zalopay.vn");
    }
    if g.dvcqg.enabled {
        add(&g.dvcqg.init_url);
    }
    if g.paygov.enabled {
        add(&g.paygov.create_url);
    }
    out
}

fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}
