# Keyward: `make run` starts the server on its defaults; `make test` runs every
# test (installing what the tests need on Debian when it can).

GO        ?= go
SQLC      := $(GO) tool -modfile=tools/go.mod sqlc
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/keyward/keyward/internal/app.Version=$(VERSION)

.PHONY: run build test test-deps generate lint bench vendor-static docker

run: build
	./keyward serve

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o keyward .

generate:
	$(SQLC) generate

# test-deps installs with apt-get what the tests run and is missing:
# Chromium (browser tests), openssl and keytool (default-jre-headless),
# the independent readers internal/certs checks its exports with, and
# SoftHSM2 (softhsm2-util and libsofthsm2.so), the PKCS#11 token
# internal/hsm/pkcs11 is tested against; those tests fail, never skip,
# without it. It fails with a clear message when it cannot install them.
TEST_DEPS := chromium:chromium openssl:openssl keytool:default-jre-headless softhsm2-util:softhsm2

test-deps:
	@missing=""; \
	for dep in $(TEST_DEPS); do \
	  command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (needed by the tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	      { echo "could not install$$missing: install them and run make test again" >&2; exit 1; }; \
	  else \
	    echo "missing test dependencies:$$missing: install them (apt-get install$$missing) and run make test again" >&2; exit 1; \
	  fi; \
	fi

lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go'))"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	@$(SQLC) diff || { echo "queries/ is stale: run make generate and commit the result" >&2; exit 1; }

test: test-deps lint
	$(GO) test -count=1 -timeout 15m ./...

# bench runs every benchmark once at a fixed count (see docs/benchmarks.md for
# the figures and the per-benchmark commands).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./internal/audit/ ./internal/secrets/ ./internal/hsm/pkcs11/ .
	$(GO) test -run '^$$' -bench . -skip KeySetScheduler -benchtime 20x ./handlers/
	$(GO) test -run '^$$' -bench KeySetScheduler -benchtime 1x ./handlers/
	$(GO) test -run '^$$' -bench . -benchtime 10x ./internal/expiry/

# vendor-static refreshes the embedded htmx and Pico CSS (see static/VENDOR.md).
vendor-static:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@2.0.11 @picocss/pico@2.1.1 >/dev/null && \
	  mkdir h p && tar xzf htmx.org-2.0.11.tgz -C h && tar xzf picocss-pico-2.1.1.tgz -C p && \
	  cp h/package/dist/htmx.min.js p/package/css/pico.min.css $(CURDIR)/static/
	cd static && printf '%s  htmx.min.js\n%s  pico.min.css\n' \
	  d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717 \
	  fbc9a63fc9fc9f72d12fd7fc9806e11fa9f77ae4f9cad146b27003a1119ba3db | sha256sum -c

docker:
	docker build -t keyward:$(VERSION) .
