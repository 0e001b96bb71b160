# Porthole: the front door. `make demo` and `make test` work on a fresh
# Debian machine with only Go installed (they install what they need).
GO      ?= go
BIN     := bin
PKGS    := ./...
export PORTHOLE_STRICT := 1
export GOFLAGS := -buildvcs=false

.PHONY: all deps build ldflags test test-short bench fuzz demo vet fmt clean package install

# Every binary prints VERSION and COMMIT (--version); release builds set
# VERSION=vX.Y.Z.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' 2>/dev/null || echo v0.1.0-dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X github.com/porthole-dev/porthole/cli/version.Version=$(VERSION) -X github.com/porthole-dev/porthole/cli/version.Commit=$(COMMIT)
PREFIX  ?= /usr/local
DESTDIR ?=

all: build

deps:
	@scripts/deps.sh

# pomerium-cli and pomerium-server are static (CGO_ENABLED=0): with no
# dynamic loader to run, a command starts about 0.4 ms sooner (of a 4 ms
# --help), and they run on any Linux. The desktop app needs cgo (OpenGL).
STATIC_CMDS := ./cmd/pomerium-cli ./cmd/pomerium-server
CGO_CMDS    := ./cmd/pomerium-desktop

build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(STATIC_CMDS)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(CGO_CMDS)

# The stamp `make build` passes (read by cli's TestMakeBuildStampsVersion).
ldflags:
	@echo '$(LDFLAGS)'

# `make package`: dist/porthole_*.deb and dist/porthole-*.rpm (nfpm as a
# library: scripts/pkg, internal/pkgbuild), stripped binaries.
package:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/bin/ $(STATIC_CMDS)
	$(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o dist/bin/ $(CGO_CMDS)
	$(GO) run ./scripts/pkg package -bin dist/bin -out dist -version $(VERSION)

# `make install PREFIX=/usr/local [DESTDIR=...]`: binaries, man pages,
# completions, desktop entry, metainfo and icons.
install: build
	$(GO) run ./scripts/pkg install -bin $(BIN) -prefix $(PREFIX) -destdir "$(DESTDIR)" -version $(VERSION)

vet:
	$(GO) vet $(PKGS)

# Every test, under a private D-Bus session with an unlocked gnome-keyring
# (the real Secret Service). GUI tests start their own Xvfb.
test: deps vet build
	@mkdir -p artifacts
	scripts/with-keyring.sh $(GO) test -count=1 -timeout 40m -p 1 $(PKGS)

test-short:
	$(GO) test -short $(PKGS)

# `make bench`: porthole-bench prints one table (tunnel h2 and --http1 vs
# a minimal relay, each in its own processes, interleaved rounds), then
# the Go micro-benchmarks of BENCH_PKGS run with -benchmem, then the
# server's CONNECTs/s per store. Add a package's benchmarks by appending
# it to BENCH_PKGS.
BENCH_PKGS := ./internal/streamcopy/ ./tunnel/
bench: deps build
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./internal/bench/porthole-bench
	$(BIN)/porthole-bench -bin $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 10x -count 1 $(BENCH_PKGS)
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
	rm -rf $(BIN) artifacts dist
