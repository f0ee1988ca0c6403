# Sparring — build, test, demo and install.
# Every target that builds first makes sure the Debian packages are there
# (as root, or through sudo), so `make demo` and `make test` work on a fresh
# Debian 12 with Swift installed.

SWIFT       ?= swift
PREFIX      ?= /usr/local
DESTDIR     ?=
CONFIG      ?= debug
BIN          = .build/$(CONFIG)/sparring
SCENARIO    ?= debt-threat
SEED        ?= 7
DEMO_OUT    ?= demo-out

# Debian 12 packages: the C libraries the live call links against, the
# recognizer's model and test speech, and the tools tests and demos use.
APT_PACKAGES = pkg-config libasound2-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us \
               pocketsphinx-testdata libespeak-ng-dev espeak-ng-data libspeexdsp-dev sox alsa-utils

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test demo clean

all: build

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@command -v $(SWIFT) >/dev/null || { echo "swift not found: install Swift 6.3 (swift.org) and put it on PATH"; exit 1; }

build: deps
	$(SWIFT) build -c $(CONFIG)

test: deps
	$(SWIFT) test

# A scripted rehearsal of one scenario: transcript, mood curve and score.
demo: build
	@mkdir -p $(DEMO_OUT)
	$(BIN) rehearse $(SCENARIO) --script scenarios/scripts/$(SCENARIO).skilled.txt --seed $(SEED) | tee $(DEMO_OUT)/$(SCENARIO).txt
	@$(BIN) rehearse $(SCENARIO) --script scenarios/scripts/$(SCENARIO).skilled.txt --seed $(SEED) --json > $(DEMO_OUT)/$(SCENARIO).json
	@echo
	@echo "Demo result: $(CURDIR)/$(DEMO_OUT)/$(SCENARIO).txt (and .json)"

clean:
	rm -rf .build $(DEMO_OUT)
