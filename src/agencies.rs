//! The agency registry (`agencies.<code>` in config): how an agency that collects is named to
//! the payer on the pay page, the confirmation and the verify page.

use crate::config::Settings;

pub use crate::config::AgencySettings;

/// An agency as shown to a payer, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyView {
    pub code: String,
    /// The registered name in the payer's language (the other language, then the code, when
    /// the registry has none).
    pub name: String,
    pub address: Option<String>,
    pub hotline: Option<String>,
}

/// The agency of an order for a payer reading `lang` (`vi` or `en`); `None` when the order
/// names no agency.
pub fn view(settings: &Settings, code: Option<&str>, lang: &str) -> Option<AgencyView> {
    let code = code?;
    let entry = settings.agencies.get(code).cloned().unwrap_or_default();
    let (first, second) = if lang == "en" {
        (&entry.name_en, &entry.name_vi)
    } else {
        (&entry.name_vi, &entry.name_en)
    };
    let name = first
        .clone()
        .or_else(|| second.clone())
        .unwrap_or_else(|| code.to_owned());
    Some(AgencyView {
        code: code.to_owned(),
        name,
        address: entry.address,
        hotline: entry.hotline,
    })
}
