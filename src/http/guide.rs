//! `/docs/portal-guide`: the guide for portal developers — verifying `Landpay-Signature` (Node,
//! Python, Java), every event type with an example body, and every error `code`.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::error::ErrorCode;

/// The guide's text (`docs/portal-guide.html` in the repository); the error list is filled in
/// from the codes themselves so that it never falls behind.
const GUIDE: &str = include_str!("../../docs/portal-guide.html");

/// The whole page.
pub fn page() -> String {
    let codes: String = ErrorCode::ALL
        .iter()
        .map(|code| {
            format!(
                "<li><a href=\"/docs/errors#{c}\"><code>{c}</code></a> — {title}</li>\n",
                c = code.as_str(),
                title = code.title()
            )
        })
        .collect();
    GUIDE.replace("<!--ERROR_CODES-->", &codes)
}

/// `GET /docs/portal-guide`.
pub async fn guide_page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(page())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ALL_EVENT_TYPES;

    #[test]
    fn every_event_type_has_an_example_and_every_code_is_listed() {
        let html = page();
        for t in ALL_EVENT_TYPES {
            let example = format!("<pre class=\"event\" data-type=\"{}\">", t.as_str());
            assert!(html.contains(&example), "no example for {}", t.as_str());
            assert!(
                html.contains(&format!("&quot;type&quot;: &quot;{}&quot;", t.as_str())),
                "the example of {} does not carry its type",
                t.as_str()
            );
        }
        for code in ErrorCode::ALL {
            assert!(html.contains(&format!("/docs/errors#{}", code.as_str())));
        }
        assert!(!html.contains("<!--ERROR_CODES-->"));
    }
}
