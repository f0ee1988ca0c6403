# Sparring — build, test, demo and install.
# Every target that builds first makes sure the Debian packages are there
# (as root, or through sudo), so `make demo` and `make test` work on a fresh
# Debian 12 with Swift installed.

SWIFT       ?= swift
PREFIX      ?= /usr/local
DESTDIR     ?=
CONFIG      ?= release
BIN          = .build/$(CONFIG)/sparring
SCENARIO    ?= debt-threat
SEED        ?= 7
DEMO_OUT    ?= demo-out

# Debian 12 packages: the C libraries the live call links against, the
# recognizer's model and test speech, and the tools tests and demos use
# (Festival's HTS voice speaks the scripted agent in `sparring simulate`).
APT_PACKAGES = pkg-config libasound2-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us \
               pocketsphinx-testdata libespeak-ng-dev espeak-ng-data libspeexdsp-dev sox alsa-utils \
               festival festvox-us-slt-hts

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test demo rehearse practice bench clean

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
	$(SWIFT) build
	$(SWIFT) test

# A full spoken call: a scripted agent (Festival voice) talks to the caller
# (eSpeak NG) through PocketSphinx, the engine and the recorder, on an
# in-memory line. The session folder holds call.wav, events.jsonl, summary.json.
demo: build
	@mkdir -p $(DEMO_OUT)
	$(BIN) simulate $(SCENARIO) --script scenarios/scripts/$(SCENARIO).skilled.txt --seed $(SEED) --sessions $(CURDIR)/$(DEMO_OUT)/sessions
	@echo
	@echo "Demo result: the session folder printed above (under $(CURDIR)/$(DEMO_OUT)/sessions)"

# A text rehearsal of the same scenario: transcript, mood curve and score.
rehearse: build
	$(BIN) rehearse $(SCENARIO) --script scenarios/scripts/$(SCENARIO).skilled.txt --seed $(SEED)

# Practise on the default headset: make practice SCENARIO=tenant-repair
practice: build
	$(BIN) run $(SCENARIO)

# Real-time figures (turn gap, take-overs, barge-in, CPU against
# pocketsphinx_continuous, start-to-ready, RSS) on paced FIFO lines.
bench: deps
	$(SWIFT) build -c release
	.build/release/sparring-bench $(BENCH_ARGS)

clean:
	rm -rf .build $(DEMO_OUT)
