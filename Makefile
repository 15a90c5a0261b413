# awsflow-sts: `make test` runs every check; `make build` builds the sidecar into bin/.
SHELL := /bin/bash
GO ?= go
# The version is package.json's, so the binary and the VSIX agree; the commit (with -dirty when the
# tree has changes) is its build metadata: `awsflow-sts version` prints e.g. 0.1.0+866f2f9.
PKG_VERSION := $(shell sed -n 's/^  "version": "\([^"]*\)",$$/\1/p' package.json)
GIT_REV := $(shell git describe --always --dirty --exclude '*' 2>/dev/null)
VERSION ?= $(PKG_VERSION)$(if $(GIT_REV),+$(GIT_REV))
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN := bin/awsflow-sts

# moto and the AWS CLI live in the machine image's pyenv Python, and Go may not be on PATH yet.
export PATH := $(if $(wildcard $(HOME)/.pyenv/shims),$(HOME)/.pyenv/shims:,)$(if $(wildcard /usr/local/go/bin),/usr/local/go/bin:,)$(PATH)

.PHONY: all build setup demo test test-go test-ext node-deps extension lint generate check-generated vet fmt-check typecheck clean package test-package

all: build

build: $(BIN)

$(BIN): $(shell find sidecar -name '*.go' -not -name '*_test.go') go.mod go.sum package.json
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./sidecar/cmd/awsflow-sts

# `awsflow-sts version` prints package.json's version (the VSIX's), with build metadata at most.
.PHONY: check-version
check-version: $(BIN)
	@out="$$($(BIN) version)"; \
	case "$$out" in \
	  "awsflow-sts $(PKG_VERSION) "*|"awsflow-sts $(PKG_VERSION)+"*) echo "check-version: $$out" ;; \
	  *) echo "check-version: $(BIN) version prints '$$out', want awsflow-sts $(PKG_VERSION) (package.json's version)" >&2; exit 1 ;; \
	esac

# The main job: the sidecar against the embedded local STS, every command, what the model sees.
demo: setup build
	$(GO) run ./sidecar/cmd/demo --bin $(BIN)

generate:
	$(GO) run ./sidecar/cmd/protogen

check-generated:
	$(GO) run ./sidecar/cmd/protogen -check

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l sidecar); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.package-lock.json

typecheck: node-deps
	npx tsc -p tsconfig.json --noEmit

# The extension bundled into out/extension.js.
extension: node-deps
	npm run build

lint: fmt-check vet check-generated typecheck check-version

# The Go suite runs with the race detector; integration tests start moto and the AWS CLI when the
# machine has them and say so when they skip.
test-go: build
	AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) $(GO) test -race -count=1 ./...

setup:
	bash scripts/setup.sh

# The extension's Node suite: pure modules, golden exchanges and the real sidecar against the local STS,
# and `awsflow-sts mcp` through two MCP clients (extension/test/mcp/): the official TypeScript SDK's
# and the MCP Inspector's CLI.
test-ext: build node-deps
	AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) npm test

# Only the MCP clients' tests (part of test-ext).
.PHONY: test-mcp
test-mcp: build node-deps
	npx tsc -p tsconfig.test.json
	AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) node --test out-test/extension/test/mcp/

test: setup lint test-go test-ext test-scripts fuzz-short

# The packaging checkers' own tests (scripts/verify-vsix.mjs, scripts/verify-archives.mjs) on the
# archives they build in a temporary directory; `make test-package` also runs them on dist/.
.PHONY: test-scripts
test-scripts: node-deps
	node --test scripts/verify-vsix.test.mjs scripts/verify-archives.test.mjs

# Fuzz targets (go test -fuzz takes one package and one target per run), as package:target; their
# seed corpora are in each package's testdata/fuzz/<target>/ and also run as plain tests in test-go.
FUZZ_TARGETS := \
	tool:FuzzValidate \
	rpc:FuzzReadObject \
	federation:FuzzParseJWT \
	federation:FuzzParseSAML \
	keyid:FuzzKeyID \
	localsts:FuzzQueryRequest \
	localsts:FuzzSignedBody \
	localsts:FuzzParseSignature \
	credfile:FuzzEdit \
	redact:FuzzScrub \
	mcpserver:FuzzLineTransport
FUZZTIME ?= 60s
# A count, not a duration: a count budget has no deadline to race (see scripts/fuzz.sh).
FUZZTIME_SHORT ?= 10000x

# Each fuzz target for FUZZTIME (default 60s); new findings land in testdata/fuzz/ as failing seeds.
.PHONY: fuzz fuzz-short
fuzz:
	GO='$(GO)' bash scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# Each fuzz target for a few thousand inputs: part of `make test`.
fuzz-short:
	GO='$(GO)' bash scripts/fuzz.sh $(FUZZTIME_SHORT) $(FUZZ_TARGETS)

# The soak (sidecar/internal/testing/integration/soak_test.go) against the real binary: 100,000 hostile
# requests mixed with valid ones, 1,000 concurrent calls, STS faults and kill -9 loops; prints its
# figures. Minutes, so not part of `make test`, whose test-go runs a few seconds of it.
.PHONY: soak
soak: build
	AWSFLOW_SOAK=full AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 60m -v -run '^TestSoak$$' ./sidecar/internal/testing/integration

# One platform-specific VSIX per target in dist/ (linux, darwin and win32; x64 and arm64), each
# carrying only its own sidecar under bin/<platform>-<arch>/; checked by scripts/verify-vsix.mjs.
# Beside them the binary alone per platform (awsflow-sts-<version>-<goos>-<goarch>.tar.gz, .zip for
# windows) and dist/SHA256SUMS over everything built; checked by scripts/verify-archives.mjs.
package: node-deps
	VERSION='$(VERSION)' GO='$(GO)' bash scripts/package.sh

# Only the standalone archives and SHA256SUMS: no extension bundle, no VSIX.
.PHONY: archives
archives:
	VERSION='$(VERSION)' GO='$(GO)' bash scripts/package.sh --archives-only

# The checkers' own tests, then every target packaged and checked (not part of `make test`).
test-package: node-deps
	node --test scripts/verify-vsix.test.mjs scripts/verify-archives.test.mjs
	$(MAKE) package

clean:
	rm -rf bin dist out out-test out-tsc

# End-to-end: the linux-x64 VSIX `make package` builds, installed in a real VS Code extension host,
# headless in Debian's chromium, offline, against the local STS: VS Code 1.100.3 (code-server 4.100.3),
# then 1.139.1 (code-server 4.139.1 on Node 24; E2E_VSCODE_139=0 skips it). Installs its tools into
# e2e/.tools; screenshots and results in e2e/artifacts; the last line sums both runs.
.PHONY: e2e
e2e: build package
	bash scripts/e2e.sh

# Benchmarks (docs/BENCHMARKS.md): the sidecar through the extension's own SidecarClient against the
# local STS, beside aws-sdk-go-v2, @aws-sdk/client-sts and the AWS CLI on the same machine, plus the
# Go micro-benchmarks of the hot paths. Prints a table and writes dist/bench.json; a missed target
# is reported, never failed. Then, where the e2e VS Code is installed (e2e/install.sh), the host
# figures (activation, STSTool through vscode.lm.invokeTool beside an in-process SDK tool) are
# measured in a real extension host and merged in. A few minutes on 2 cores.
# Sessions at scale (bench/scale.mjs) runs the binary of BASELINE_REV beside the current one.
BASELINE_REV ?= HEAD~1
.PHONY: bench
bench: setup build node-deps package
	node bench/build.mjs
	CGO_ENABLED=0 $(GO) build -trimpath -o bench/.build/gosdk ./bench/gosdk
	AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) GO='$(GO)' node bench/run.mjs
	AWSFLOW_STS_BIN=$(CURDIR)/$(BIN) node bench/scale.mjs \
		--variant baseline=$$(GO='$(GO)' BASELINE_REV='$(BASELINE_REV)' bash scripts/bench-baseline.sh) \
		--variant current=$(CURDIR)/$(BIN)
	bash scripts/bench-host.sh
