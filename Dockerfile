# Build: cgo on Debian bookworm (the PKCS#11 adapter needs cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X github.com/keyward/keyward/internal/app.Version=${VERSION}" -o /out/keyward .

# Run: slim Debian, non-root, data on a volume.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin keyward \
 && mkdir -p /data && chown keyward:keyward /data && chmod 700 /data
COPY --from=build /out/keyward /usr/local/bin/keyward
USER keyward
ENV KEYWARD_ADDR=0.0.0.0:8080 KEYWARD_DATA_DIR=/data KEYWARD_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# HTTPS served directly: set KEYWARD_TLS_CERT_FILE and KEYWARD_TLS_KEY_FILE (files on a read-only
# mount, readable by uid 10001); the health check then speaks https too (see README).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/keyward", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/keyward"]
CMD ["serve"]
