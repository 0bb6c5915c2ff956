# Release build for kiosk PCs: included by the top-level Makefile.
#
# go-face compiles its C++ with -march=native after CGO_CXXFLAGS, so a plain `go build` on a
# modern CPU (this build machine has AVX-512) produces a binary that can die with SIGILL on an
# older kiosk CPU. The release target builds for a stated baseline instead: the compiler
# wrappers rewrite -march=native to $(BASELINE), and GOAMD64 holds Go's own code to the same
# level. check-baseline disassembles the result and fails on any instruction beyond it.
#
#   make release                      # binaries in $(RELEASE_DIR)
#   make check-baseline               # release, then verify the instruction set
#   make release RELEASE_CMDS=./cmd/ikdctl

BASELINE     ?= x86-64-v2
GOAMD64_LEVEL ?= v2
RELEASE_DIR  ?= dist
RELEASE_CMDS ?= ./cmd/ikd-kiosk ./cmd/ikdctl ./cmd/ikd-registry
RELEASE_ENV  = CGO_ENABLED=1 GOAMD64=$(GOAMD64_LEVEL) IKD_BASELINE=$(BASELINE) \
	CC="$(CURDIR)/build/cc-baseline.sh" CXX="$(CURDIR)/build/cxx-baseline.sh"

.PHONY: release check-baseline

release:
	mkdir -p $(RELEASE_DIR)
	$(RELEASE_ENV) go build -trimpath -o $(RELEASE_DIR)/ $(RELEASE_CMDS)

check-baseline: release
	build/check-baseline.sh $(addprefix $(RELEASE_DIR)/,$(notdir $(RELEASE_CMDS)))
