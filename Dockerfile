# Multi-stage build: dependencies cached by cargo-chef, a slim non-root runtime.
# Every base image and tool is pinned; bump them deliberately (and add `@sha256:…` digests from your
# registry mirror to make the build bit-for-bit repeatable).
ARG RUST_IMAGE=rust:1.95.0-slim-bookworm
ARG RUNTIME_IMAGE=debian:12.12-slim

FROM ${RUST_IMAGE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --bin landpay

FROM ${RUNTIME_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin landpay \
 && mkdir -p /app/data && chown landpay /app/data
WORKDIR /app
COPY --from=builder /app/target/release/landpay /usr/local/bin/landpay
COPY config ./config
ENV LANDPAY_ENV=production \
    LANDPAY__SERVER__PORT=8080
# The embedded SQLite database lives here (database.url defaults to sqlite://data/landpay.db);
# mount a volume on it, or point LANDPAY__DATABASE__URL at PostgreSQL.
VOLUME ["/app/data"]
USER landpay
EXPOSE 8080
# The probe follows the configured port.
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${LANDPAY__SERVER__PORT}/healthz" || exit 1
ENTRYPOINT ["landpay"]
CMD ["serve"]
