# The README's commands. `make test` is what CI runs after starting services.
GO ?= go

.PHONY: run test test-short build vet bench vendor

run:
	$(GO) run ./cmd/trothu serve --demo

# Every test, with the race detector, on SQLite and PostgreSQL, and the
# browser tests in headless Chromium. Needs PostgreSQL (TROTHU_TEST_POSTGRES,
# default postgres://postgres@127.0.0.1:5432/test) and Chromium; .ci/run
# starts them.
test:
	$(GO) test -race -count=1 -timeout 25m ./...

test-short:
	$(GO) test -count=1 -short ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o trothu ./cmd/trothu

vet:
	$(GO) vet ./...

bench:
	$(GO) run ./cmd/trothu bench geo-locate

# Refresh the embedded front-end libraries from the pinned npm packages.
vendor:
	cd web-vendor && npm ci --no-audit --no-fund
	cp web-vendor/node_modules/htmx.org/dist/htmx.min.js internal/web/static/vendor/htmx.min.js
	cp web-vendor/node_modules/leaflet/dist/leaflet.js internal/web/static/vendor/leaflet.js
	cp web-vendor/node_modules/leaflet/dist/leaflet.css internal/web/static/vendor/leaflet.css
