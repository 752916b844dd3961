//! Logs and traces. Logs: readable lines locally, one JSON object per line in production; always
//! on stderr so that commands such as `landpay token` keep stdout for their output. Traces: with
//! `telemetry.otlp_endpoint`, every request's span and the database spans inside it are exported
//! over OTLP/HTTP (protobuf) in batches.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::config::{LogSettings, TelemetrySettings};

/// Keeps the trace exporter alive; dropping it flushes the spans not yet sent.
pub struct TelemetryGuard(Option<SdkTracerProvider>);

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            if let Err(e) = provider.shutdown() {
                eprintln!("landpay: flushing traces: {e}");
            }
        }
    }
}

fn filter(settings: &LogSettings) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the global subscriber (logs only); `RUST_LOG` overrides the configured filter.
pub fn init(settings: &LogSettings) {
    let _ = install(settings, None);
}

/// Installs the global subscriber with logs and, when `telemetry.otlp_endpoint` is set, traces.
pub fn init_with_traces(
    log: &LogSettings,
    telemetry: &TelemetrySettings,
) -> anyhow::Result<TelemetryGuard> {
    let provider = if telemetry.otlp_endpoint.is_empty() {
        None
    } else {
        Some(provider(telemetry)?)
    };
    install(log, provider.as_ref());
    Ok(TelemetryGuard(provider))
}

/// The OTLP endpoint of the traces: `<base>/v1/traces` unless the URL already names it.
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") {
        base.to_owned()
    } else {
        format!("{base}/v1/traces")
    }
}

fn provider(telemetry: &TelemetrySettings) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(&telemetry.otlp_endpoint))
        .build()?;
    let resource = Resource::builder()
        .with_service_name(telemetry.service_name.clone())
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

fn install(settings: &LogSettings, provider: Option<&SdkTracerProvider>) -> bool {
    let logs = if settings.format == "json" {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .with_filter(filter(settings))
            .boxed()
    } else {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter(settings))
            .boxed()
    };
    // Traces take the service's own info spans (requests, database calls) whatever the log filter.
    let traces = provider.map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("landpay"))
            .with_filter(Targets::new().with_target("landpay", LevelFilter::INFO))
    });
    // A second init (tests build many apps in one process) keeps the first subscriber.
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
        .is_ok()
}
