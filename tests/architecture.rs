//! The shape ARCHITECTURE.md describes, checked on the source: which layer may name which, and
//! how long a file or a function may grow. `#[cfg(test)]` code is left out of both checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// No file of `src/` grows past this many lines, its test modules aside.
const FILE_LIMIT: usize = 500;
/// No function grows past this many lines, signature and closing brace included.
const FN_LIMIT: usize = 80;

/// Files of the HTTP-free layers whose whole job is HTTP, and so may import it. Empty: a module
/// that needs HTTP belongs under `src/http/`.
const HTTP_JOB_FILES: &[&str] = &[];

/// The layers whose files know no HTTP and no wiring: the pure cores and the use cases.
const NO_HTTP: &[&str] = &[
    "obligations",
    "gateways",
    "events",
    "payments",
    "notices",
    "webhooks",
    "reconciliation",
    "confirmation",
    "accounts",
    "exports",
    "app.rs",
];

/// The pure cores: decisions and formats, no storage and no use case.
const PURE_CORES: &[&str] = &[
    "obligations",
    "gateways",
    "events",
    "payments/order.rs",
    "reconciliation/diff.rs",
    "reconciliation/csv.rs",
    "webhooks/subscription.rs",
    "confirmation/number.rs",
];

/// The use cases, by module path (two of them hold a pure core, allowed by name).
const USE_CASES: &[&str] = &[
    "crate::app",
    "crate::payments",
    "crate::notices",
    "crate::webhooks",
    "crate::reconciliation",
    "crate::confirmation",
    "crate::accounts",
    "crate::exports",
];

/// The pure cores inside use-case modules, by module path.
const CORES_IN_USE_CASES: &[&str] = &[
    "crate::payments::order",
    "crate::reconciliation::diff",
    "crate::reconciliation::csv",
    "crate::webhooks::subscription",
    "crate::confirmation::number",
];

/// The foundation every layer builds on, which builds on nothing but itself.
const FOUNDATION: &[&str] = &[
    "money.rs",
    "ids.rs",
    "clock.rs",
    "error.rs",
    "config",
    "wording.rs",
    "telemetry.rs",
    "agencies.rs",
    "notifications.rs",
    "auth",
];

/// Everything above the foundation, by module path.
const ABOVE_FOUNDATION: &[&str] = &[
    "crate::app",
    "crate::idempotency",
    "crate::obligations",
    "crate::gateways",
    "crate::events",
    "crate::payments",
    "crate::notices",
    "crate::webhooks",
    "crate::reconciliation",
    "crate::confirmation",
    "crate::accounts",
    "crate::exports",
    "crate::storage",
    "crate::http",
    "crate::startup",
    "crate::workers",
    "actix_web",
];

/// The HTTP layer and the wiring, by module path.
const WEB_AND_WIRING: &[&str] = &[
    "crate::http",
    "crate::idempotency",
    "crate::startup",
    "crate::workers",
    "actix_web",
    "actix_multipart",
];

/// What storage may name in the use-case modules: the pure cores, and the notice, a record
/// whose type its use case defines.
const STORED_DOMAIN_TYPES: &[&str] = &[
    "crate::payments::order",
    "crate::reconciliation::diff",
    "crate::reconciliation::csv",
    "crate::webhooks::subscription",
    "crate::confirmation::number",
    "crate::notices::Notice",
    "crate::notices::NewNotice",
    "crate::notices::NoticeLine",
];

/// What a handler may name in storage: the records its use case returns, to render them. Never
/// the `Store` or a storage function.
const READ_MODELS: &[&str] = &[
    "crate::storage::payments::PaymentRecord",
    "crate::storage::payments::PaymentLineRow",
    "crate::storage::payments::AttemptRow",
    "crate::storage::refunds::RefundRow",
    "crate::storage::reconciliation::RunRow",
    "crate::storage::reconciliation::ItemRow",
    "crate::storage::reconciliation::PositionedItem",
    "crate::storage::webhooks::EndpointRow",
];

/// One arrow ARCHITECTURE.md forbids.
struct Rule {
    /// The sentence of ARCHITECTURE.md it enforces.
    says: &'static str,
    /// The files it governs: a module (`payments`, its file and its folder) or one file (`payments/order.rs`).
    files: &'static [&'static str],
    /// Governed files it spares.
    except: &'static [&'static str],
    /// What they may not name: a path (`crate::http`, `actix_web`) and everything under it, or `.store`.
    forbidden: &'static [&'static str],
    /// Paths under a forbidden one that stay allowed.
    allowed: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        says: "pure cores and use cases know no HTTP and no wiring",
        files: NO_HTTP,
        except: HTTP_JOB_FILES,
        forbidden: WEB_AND_WIRING,
        allowed: &[],
    },
    Rule {
        says: "pure cores import no storage and no use case",
        files: PURE_CORES,
        except: &[],
        forbidden: &["crate::storage"],
        allowed: &[],
    },
    Rule {
        says: "pure cores import no storage and no use case",
        files: PURE_CORES,
        except: &[],
        forbidden: USE_CASES,
        allowed: CORES_IN_USE_CASES,
    },
    Rule {
        says: "the foundation imports only the foundation",
        files: FOUNDATION,
        except: &[],
        forbidden: ABOVE_FOUNDATION,
        allowed: &[],
    },
    Rule {
        says: "storage builds on the foundation and the pure cores: no use case",
        files: &["storage"],
        except: &[],
        forbidden: USE_CASES,
        allowed: STORED_DOMAIN_TYPES,
    },
    Rule {
        says: "storage knows no HTTP and no wiring",
        files: &["storage"],
        except: &[],
        forbidden: WEB_AND_WIRING,
        allowed: &[],
    },
    Rule {
        says: "handlers call a use case: no store access in src/http/",
        files: &["http"],
        except: &[],
        forbidden: &["crate::storage", ".store"],
        allowed: READ_MODELS,
    },
    Rule {
        says: "only main.rs (and lib.rs) names startup",
        files: &[""],
        except: &["main.rs", "lib.rs", "startup.rs"],
        forbidden: &["crate::startup"],
        allowed: &[],
    },
    Rule {
        says: "workers are wiring: only startup and main start them",
        files: &[""],
        except: &["main.rs", "lib.rs", "startup.rs", "workers.rs"],
        forbidden: &["crate::workers"],
        allowed: &[],
    },
];

// ---------------------------------------------------------------------------------------------
// Reading the source

/// A file of `src/`, named by its path under `src/` (`http/payments.rs`).
struct Source {
    path: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    collect(&root, &root, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<Source>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under src");
            out.push(Source {
                path: rel.to_string_lossy().replace('\\', "/"),
                text: fs::read_to_string(&path).expect("readable source"),
            });
        }
    }
}

fn parse(path: &str, text: &str) -> syn::File {
    syn::parse_file(text).unwrap_or_else(|e| panic!("src/{path}: {e}"))
}

/// The module path of a file: `http/callbacks/bounded.rs` → `[http, callbacks, bounded]`.
fn module_of(path: &str) -> Vec<String> {
    let stem = path.trim_end_matches(".rs");
    let mut parts: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("test")
            || (a.path().is_ident("cfg")
                && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string().trim() == "test"))
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    match item {
        syn::Item::Const(i) => &i.attrs,
        syn::Item::Enum(i) => &i.attrs,
        syn::Item::Fn(i) => &i.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Macro(i) => &i.attrs,
        syn::Item::Mod(i) => &i.attrs,
        syn::Item::Static(i) => &i.attrs,
        syn::Item::Struct(i) => &i.attrs,
        syn::Item::Trait(i) => &i.attrs,
        syn::Item::Type(i) => &i.attrs,
        syn::Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Arrows

/// Something a file names: a path (`crate::storage::Store`, `actix_web::web`) or `.store`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reference {
    line: usize,
    target: String,
}

struct References {
    module: Vec<String>,
    /// Whether `landpay::` means `crate::` (the binary).
    binary: bool,
    found: Vec<Reference>,
}

impl References {
    /// Records a path, with `crate`, `self` and `super` made absolute.
    fn push(&mut self, line: usize, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut absolute: Vec<String> = Vec::new();
        let rest = match first.as_str() {
            "crate" => &segments[1..],
            "landpay" if self.binary => &segments[1..],
            "self" => {
                absolute.extend(self.module.iter().cloned());
                &segments[1..]
            }
            "super" => {
                let supers = segments.iter().take_while(|s| *s == "super").count();
                let keep = self.module.len().saturating_sub(supers);
                absolute.extend(self.module[..keep].iter().cloned());
                &segments[supers..]
            }
            _ => {
                self.found.push(Reference {
                    line,
                    target: segments.join("::"),
                });
                return;
            }
        };
        absolute.extend(rest.iter().cloned());
        let target = std::iter::once("crate".to_owned())
            .chain(absolute)
            .collect::<Vec<_>>()
            .join("::");
        self.found.push(Reference { line, target });
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_leaf(prefix, &n.ident),
            syn::UseTree::Rename(r) => self.use_leaf(prefix, &r.ident),
            syn::UseTree::Glob(g) => {
                let line = g.star_token.spans[0].start().line;
                self.push(line, &prefix.clone());
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }

    fn use_leaf(&mut self, prefix: &[String], ident: &syn::Ident) {
        let mut path = prefix.to_vec();
        if ident != "self" {
            path.push(ident.to_string());
        }
        self.push(ident.span().start().line, &path);
    }

    /// Paths and `.store` inside a macro's or an attribute's tokens, which syn leaves unparsed.
    fn tokens(&mut self, tokens: TokenStream) {
        let mut path: Vec<String> = Vec::new();
        let mut line = 0;
        let mut colons = 0;
        let mut after_dot = false;
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => {
                    let name = ident.to_string();
                    if after_dot && name == "store" {
                        self.store(ident.span().start().line);
                    }
                    after_dot = false;
                    if colons == 2 && !path.is_empty() {
                        path.push(name);
                    } else {
                        self.flush(line, &mut path);
                        line = ident.span().start().line;
                        path.push(name);
                    }
                    colons = 0;
                }
                TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
                TokenTree::Punct(p) => {
                    self.flush(line, &mut path);
                    after_dot = p.as_char() == '.';
                    colons = 0;
                }
                TokenTree::Group(g) => {
                    self.flush(line, &mut path);
                    self.tokens(g.stream());
                    after_dot = false;
                    colons = 0;
                }
                TokenTree::Literal(_) => {
                    self.flush(line, &mut path);
                    after_dot = false;
                    colons = 0;
                }
            }
        }
        self.flush(line, &mut path);
    }

    fn flush(&mut self, line: usize, path: &mut Vec<String>) {
        if path.len() > 1 {
            let taken = std::mem::take(path);
            self.push(line, &taken);
        }
        path.clear();
    }

    fn store(&mut self, line: usize) {
        self.found.push(Reference {
            line,
            target: ".store".to_owned(),
        });
    }
}

impl<'ast> Visit<'ast> for References {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if !is_cfg_test(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            self.push(path.span().start().line, &segments);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let syn::Meta::List(list) = &attr.meta {
            self.tokens(list.tokens.clone());
        }
        visit::visit_attribute(self, attr);
    }

    fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
        if let syn::Member::Named(name) = &field.member {
            if name == "store" {
                self.store(name.span().start().line);
            }
        }
        visit::visit_expr_field(self, field);
    }
}

/// Every path and `.store` a file names outside its test code.
fn references(path: &str, text: &str) -> Vec<Reference> {
    let mut refs = References {
        module: module_of(path),
        binary: path == "main.rs",
        found: Vec::new(),
    };
    refs.visit_file(&parse(path, text));
    refs.found
}

fn governs(pattern: &str, path: &str) -> bool {
    pattern.is_empty()
        || path == pattern
        || path == format!("{pattern}.rs")
        || path.starts_with(&format!("{pattern}/"))
}

fn names(target: &str, prefix: &str) -> bool {
    target == prefix || target.starts_with(&format!("{prefix}::"))
}

/// Every forbidden arrow of `files`, as `src/<path>:<line> names <target>: <rule>`.
fn forbidden_arrows(rules: &[Rule], files: &[Source]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        let governing: Vec<&Rule> = rules
            .iter()
            .filter(|rule| {
                rule.files.iter().any(|p| governs(p, &file.path))
                    && !rule.except.iter().any(|p| governs(p, &file.path))
            })
            .collect();
        for r in references(&file.path, &file.text) {
            for rule in &governing {
                let bad = rule.forbidden.iter().any(|f| names(&r.target, f))
                    && !rule.allowed.iter().any(|a| names(&r.target, a));
                let line = format!(
                    "src/{}:{} names `{}`: {}",
                    file.path, r.line, r.target, rule.says
                );
                if bad && !out.contains(&line) {
                    out.push(line);
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Sizes

/// Functions and methods with bodies: (name, first line, last line), test code aside.
#[derive(Default)]
struct Functions {
    found: Vec<(String, usize, usize)>,
    test_lines: usize,
}

impl Functions {
    fn record(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let first = sig.span().start().line;
        let last = block.brace_token.span.close().end().line;
        self.found.push((sig.ident.to_string(), first, last));
    }
}

impl<'ast> Visit<'ast> for Functions {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_cfg_test(item_attrs(item)) {
            let span = item.span();
            self.test_lines += span.end().line + 1 - span.start().line;
        } else {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.record(&f.sig, &f.block);
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            self.record(&f.sig, &f.block);
            visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.record(&f.sig, block);
        }
        visit::visit_trait_item_fn(self, f);
    }
}

/// Every file and function over its limit, as `src/<path>: <n> lines` or `src/<path>:<line> fn <name>: <n> lines`.
fn oversized(files: &[Source], file_limit: usize, fn_limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        let mut fns = Functions::default();
        fns.visit_file(&parse(&file.path, &file.text));
        let lines = file.text.lines().count() - fns.test_lines;
        if lines > file_limit {
            out.push(format!(
                "src/{}: {lines} lines outside tests (limit {file_limit})",
                file.path
            ));
        }
        for (name, first, last) in fns.found {
            let length = last + 1 - first;
            if length > fn_limit {
                out.push(format!(
                    "src/{}:{first} fn {name}: {length} lines (limit {fn_limit})",
                    file.path
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The checks

#[test]
fn the_layers_import_only_what_architecture_md_allows() {
    let arrows = forbidden_arrows(RULES, &sources());
    assert!(
        arrows.is_empty(),
        "{} forbidden arrows (see ARCHITECTURE.md):\n{}",
        arrows.len(),
        arrows.join("\n")
    );
}

#[test]
fn no_file_or_function_outgrows_its_limit() {
    let over = oversized(&sources(), FILE_LIMIT, FN_LIMIT);
    assert!(
        over.is_empty(),
        "{} over the limit:\n{}",
        over.len(),
        over.join("\n")
    );
}

#[test]
fn every_file_of_src_parses_and_every_rule_governs_a_file() {
    let files = sources();
    assert!(files.iter().any(|f| f.path == "lib.rs"));
    for file in &files {
        parse(&file.path, &file.text);
    }
    for rule in RULES {
        for pattern in rule.files {
            assert!(
                files.iter().any(|f| governs(pattern, &f.path)),
                "`{pattern}` of rule `{}` names no file of src/",
                rule.says
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checkers, on sample text

fn sample(path: &str, text: &str) -> Vec<Source> {
    vec![Source {
        path: path.to_owned(),
        text: text.to_owned(),
    }]
}

#[test]
fn arrows_are_found_in_every_spelling() {
    let text = r#"
use crate::{http::state::AppState, money::Vnd};
use super::super::startup;
use actix_web as web;

fn decide() {
    let _ = crate::http::errors::status_of(&e);
    tracing::info!(code = %crate::workers::sweep(), "x");
}

#[cfg(test)]
mod tests {
    use actix_web::test;
}
"#;
    let arrows = forbidden_arrows(RULES, &sample("payments/service.rs", text));
    let joined = arrows.join("\n");
    assert!(joined.contains("src/payments/service.rs:2 names `crate::http::state::AppState`"));
    assert!(joined.contains(":3 names `crate::startup`"), "{joined}");
    assert!(joined.contains(":4 names `actix_web`"), "{joined}");
    assert!(
        joined.contains(":7 names `crate::http::errors::status_of`"),
        "{joined}"
    );
    assert!(
        joined.contains(":8 names `crate::workers::sweep`"),
        "{joined}"
    );
    assert!(
        !joined.contains(":13"),
        "test code is not checked: {joined}"
    );
    assert!(!joined.contains("money"), "{joined}");
}

#[test]
fn store_access_in_http_is_found_and_a_store_named_otherwise_is_not() {
    let text = r#"
use crate::storage::Store;

async fn handler(state: &AppState) {
    let order = state.store.find_order(&id).await;
    let page = format!("{}", state.app.store.name());
    let storefront = state.storefront;
    let _ = payments::refund(&state, &input).await;
}
"#;
    let arrows = forbidden_arrows(RULES, &sample("http/refunds.rs", text));
    let lines: Vec<&str> = arrows
        .iter()
        .map(|a| a.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        [
            "src/http/refunds.rs:2",
            "src/http/refunds.rs:5",
            "src/http/refunds.rs:6"
        ],
        "{arrows:?}"
    );
}

#[test]
fn pure_cores_may_name_the_order_table_but_no_use_case() {
    let text = r#"
use crate::payments::order::PaymentStatus;
use crate::payments::service::decide;
use crate::storage::Store;
"#;
    let arrows = forbidden_arrows(RULES, &sample("gateways/vnpay/mod.rs", text));
    assert_eq!(arrows.len(), 2, "{arrows:?}");
    assert!(arrows[0].contains("crate::payments::service::decide"));
    assert!(arrows[1].contains("crate::storage::Store"));
    let allowed = forbidden_arrows(RULES, &sample("payments/service.rs", text));
    assert!(allowed.is_empty(), "use cases may use storage: {allowed:?}");
}

#[test]
fn startup_is_named_only_by_main() {
    let text = "use landpay::startup::Application;\nuse crate::startup::run;\n";
    assert!(forbidden_arrows(RULES, &sample("main.rs", text)).is_empty());
    let arrows = forbidden_arrows(RULES, &sample("http/ops.rs", text));
    assert_eq!(arrows.len(), 1, "{arrows:?}");
    assert!(arrows[0].starts_with("src/http/ops.rs:2 names `crate::startup::run`"));
}

fn function_of(name: &str, lines: usize) -> String {
    let body: String = (0..lines - 2)
        .map(|i| format!("    let _x{i} = {i};\n"))
        .collect();
    format!("fn {name}() {{\n{body}}}\n")
}

#[test]
fn long_functions_and_files_are_found_and_test_code_is_not_counted() {
    let text = format!(
        "{}{}impl S {{\n{}}}\ntrait T {{\n{}}}\n#[cfg(test)]\nmod tests {{\n{}}}\n",
        function_of("fits", 80),
        function_of("too_long", 81),
        function_of("method", 82),
        function_of("provided", 83),
        function_of("long_test", 200),
    );
    let over = oversized(&sample("x.rs", &text), 1000, 80);
    assert_eq!(over.len(), 3, "{over:?}");
    assert!(
        over[0].starts_with("src/x.rs:81 fn too_long: 81 lines"),
        "{over:?}"
    );
    assert!(over[1].contains("fn method: 82 lines"), "{over:?}");
    assert!(over[2].contains("fn provided: 83 lines"), "{over:?}");
    // 80 + 81 + (82 + 2) + (83 + 2) lines of code; the 203-line test module is left out.
    let code = 80 + 81 + 84 + 85;
    assert!(oversized(&sample("x.rs", &text), code, 1000).is_empty());
    let over = oversized(&sample("x.rs", &text), code - 1, 1000);
    assert_eq!(
        over,
        [format!(
            "src/x.rs: {code} lines outside tests (limit {})",
            code - 1
        )]
    );
}

#[test]
fn storage_may_name_stored_types_but_no_use_case_logic() {
    let text = r#"
use crate::notices::{NewNotice, Notice};
use crate::payments::order::{self, OrderEvent};
use crate::confirmation::number::new_confirmation_no;
use crate::confirmation::send_receipt;

fn insert() {
    let _ = crate::webhooks::subscribes(&list, kind);
    let _ = crate::notices::validate(&input);
    let _ = crate::webhooks::subscription::subscribes("whe_1", &list, None, kind, None);
}
"#;
    let arrows = forbidden_arrows(RULES, &sample("storage/paying.rs", text));
    let lines: Vec<&str> = arrows
        .iter()
        .map(|a| a.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        [
            "src/storage/paying.rs:5",
            "src/storage/paying.rs:8",
            "src/storage/paying.rs:9"
        ],
        "{arrows:?}"
    );
}

#[test]
fn the_foundation_names_nothing_above_it() {
    let text = "use crate::error::FieldError;\nuse crate::payments::order::PaymentStatus;\n";
    let arrows = forbidden_arrows(RULES, &sample("config/checks.rs", text));
    assert_eq!(arrows.len(), 1, "{arrows:?}");
    assert!(arrows[0]
        .starts_with("src/config/checks.rs:2 names `crate::payments::order::PaymentStatus`"));
}
