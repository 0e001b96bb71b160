# Porthole: the front door. `make demo` and `make test` work on a fresh
# Debian machine with only Go installed (they install what they need).
GO      ?= go
BIN     := bin
PKGS    := ./...
export PORTHOLE_STRICT := 1
export GOFLAGS := -buildvcs=false

.PHONY: all deps build test test-short bench fuzz demo vet fmt clean

all: build

deps:
	@scripts/deps.sh

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	$(GO) vet $(PKGS)

# Every test, under a private D-Bus session with an unlocked gnome-keyring
# (the real Secret Service). GUI tests start their own Xvfb.
test: deps vet build
	@mkdir -p artifacts
	scripts/with-keyring.sh $(GO) test -count=1 -timeout 40m -p 1 $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 10x -count 1 ./tunnel/
	$(GO) test -run '^$$' -bench ConnectStore -benchtime 300x -count 1 ./server/

# Every package's fuzz tests, found by name, FUZZTIME each (default 1m);
# `make test` runs only their seed corpora. FUZZ=regexp picks some.
fuzz:
	scripts/fuzz.sh

demo: deps build
	scripts/demo.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN) artifacts
