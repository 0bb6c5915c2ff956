# Two commands on a fresh Debian 12 machine:
#   make demo   installs everything and runs the kiosk's headless demo (no camera, no network)
#   make test   runs the whole test suite
.PHONY: demo setup build test check-models check-purego check-faults check-ui check-walk bench

BIN := bin

demo: setup build
	IKD_MODELS=$${IKD_MODELS:-models} $(BIN)/ikd-kiosk --demo

setup:
	build/setup.sh

build:
	PATH=/usr/local/go/bin:$$PATH go build -o $(BIN)/ ./cmd/...

test:
	build/test.sh

# The slower model checks: models as a fresh machine gets them, the converter's tests, and
# descriptors of the converted model on real photos.
check-models:
	build/check-models.sh

# Everything but the dlib adapter and the binaries that link it, built and tested without cgo.
check-purego:
	build/check-purego.sh

# The fault suite: registry and kiosk sync processes behind a faulty link, SIGKILLed at random;
# nothing lost, nothing duplicated, one e-mail per accepted activation.
check-faults:
	build/check-faults.sh

# Screenshot tests of the kiosk window under Xvfb (needs Xvfb and Mesa; not part of make test).
check-ui:
	build/check-ui.sh

# The real window walked through with xdotool on a 1366×768 virtual display: the demo from
# login to lock, and a kiosk with no camera (needs Xvfb, Mesa, xdotool, ImageMagick).
check-walk:
	build/check-walk.sh

bench: build
	$(BIN)/ikdctl bench store
	$(BIN)/ikdctl bench qr
	IKD_MODELS=$${IKD_MODELS:-models} $(BIN)/ikdctl bench face
	$(BIN)/ikdctl bench sync   # needs a PostgreSQL server: export IKD_TEST_POSTGRES=$$(sudo build/postgres.sh)

include build/release.mk
