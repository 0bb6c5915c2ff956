# Two commands on a fresh Debian 12 machine:
#   make demo   installs everything and runs the kiosk's headless demo (no camera, no network)
#   make test   runs the whole test suite
.PHONY: demo setup build test bench

BIN := bin

demo: setup build
	IKD_MODELS=$${IKD_MODELS:-models} $(BIN)/ikd-kiosk --demo

setup:
	build/setup.sh

build:
	PATH=/usr/local/go/bin:$$PATH go build -o $(BIN)/ ./cmd/...

test:
	build/test.sh

bench: build
	$(BIN)/ikdctl bench store
	$(BIN)/ikdctl bench qr
	IKD_MODELS=$${IKD_MODELS:-models} $(BIN)/ikdctl bench face

include build/release.mk
