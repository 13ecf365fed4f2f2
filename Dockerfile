# Multi-stage build: compile in the Rust image, run in a slim Debian as a non-root user.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# actix-http, patched (see vendor/actix-http/PATCHED.md); Cargo.toml points at it.
COPY vendor ./vendor
COPY src ./src
COPY migrations ./migrations
# src/cli.rs embeds the demo ledger (include_str!), so the build needs it too.
COPY demo ./demo
RUN cargo build --release --locked && strip target/release/rectify

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/rectify --create-home rectify
COPY --from=build /src/target/release/rectify /usr/local/bin/rectify
USER rectify
WORKDIR /var/lib/rectify
ENV RECTIFY_BIND=0.0.0.0:8080 \
    RECTIFY_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rectify"]
CMD ["serve"]
