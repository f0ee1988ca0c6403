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
# (Festival's HTS voice speaks the scripted agent in `sparring simulate`;
# Chromium and its WebDriver open the HTML report in a test; libFLAC stores
# the hub's recordings; PostgreSQL's server runs the hub's tests on
# PostgreSQL, started by the tests on a private folder and port).
APT_PACKAGES = pkg-config libasound2-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us \
               pocketsphinx-testdata libespeak-ng-dev espeak-ng-data libspeexdsp-dev libopusenc-dev sox alsa-utils \
               festival festvox-us-slt-hts libsqlite3-dev libsonic-dev chromium chromium-driver \
               libflac-dev postgresql

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test demo rehearse practice hub hub-bench bench turns-bench moves-bench scenarios-bench soak fuzz install uninstall clean

BINDIR      = $(PREFIX)/bin
SHAREDIR    = $(PREFIX)/share/sparring
DOCDIR      = $(PREFIX)/share/doc/sparring
ETCDIR      = $(PREFIX)/etc/sparring
UNITDIR     = $(PREFIX)/lib/systemd/user
SYSUNITDIR  = $(PREFIX)/lib/systemd/system
MANDIR      = $(PREFIX)/share/man/man1
BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(PREFIX)/share/fish/vendor_completions.d
MANOUT      = .build/plugins/GenerateManual/outputs

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

# Tests build without debug information (a quarter less build time) and
# print line by line, so a log shows every test that started and did not
# end. A run longer than TEST_LIMIT is stopped and fails, rather than hang.
TEST_BUILD ?= -debug-info-format none
TEST_LIMIT ?= 50m
test: deps
	$(SWIFT) build $(TEST_BUILD)
	stdbuf -oL -eL timeout --kill-after=1m $(TEST_LIMIT) $(SWIFT) test $(TEST_BUILD)

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

# The team's hub on this machine, to try it: http://127.0.0.1:8470, data in
# HUB_DATA. The first run adds an admin and prints the password once.
HUB_DATA    ?= $(CURDIR)/.build/hub-data
hub: build
	@if [ ! -e $(HUB_DATA)/hub.sqlite ]; then \
		password=$$(head -c 12 /dev/urandom | base64 | tr -d '/+=' ); \
		echo "$$password" | .build/$(CONFIG)/sparring-hub user add admin --role admin --password-stdin --data $(HUB_DATA) && \
		echo "Sign in at http://127.0.0.1:8470 as admin with password $$password"; \
		echo "Join an agent's machine: .build/$(CONFIG)/sparring hub join http://127.0.0.1:8470 \$$(.build/$(CONFIG)/sparring-hub enroll NAME --data $(HUB_DATA))"; \
	fi
	.build/$(CONFIG)/sparring-hub serve --data $(HUB_DATA)

# Real-time figures (turn gap, take-overs, barge-in, CPU against
# pocketsphinx_continuous, start-to-ready, RSS) on paced FIFO lines.
# The reference decoder comes with Debian's pocketsphinx package.
bench: deps
	@dpkg-query -W -f='$${Status}\n' pocketsphinx 2>/dev/null | grep -q 'install ok installed' || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pocketsphinx; }
	$(SWIFT) build -c release
	.build/release/sparring-bench $(BENCH_ARGS)

# Move recognition on the held-out corpus: typed, with 20 % of words wrong,
# and spoken by four voices through PocketSphinx, clean and at 20 dB SNR.
# Rendered speech is cached under ~/.cache/sparring/corpus-audio.
moves-bench: deps
	$(SWIFT) build -c release
	.build/release/sparring moves eval
	.build/release/sparring moves eval --word-errors 0.2
	.build/release/sparring moves eval --speech
	.build/release/sparring moves eval --speech --noise 20

# The caller's coherence: each scenario called 100 times in text by skilled,
# paraphrased (held-out corpus), dismissive, uneven and restless agents at
# every difficulty, with 20 % of words wrong; the README's table.
scenarios-bench: deps
	$(SWIFT) build -c release --product sparring
	.build/release/sparring scenarios check --runs 100 --difficulty fair,strict,empathic

# The end of turn on the recognizer alone: agent turns with inner pauses
# (Tests/Corpus/turns.tsv, its held-out test part) in four voices, clean and
# with pink, babble and fan noise 20 dB down, and each noise alone.
turns-bench: deps
	@dpkg-query -W -f='$${Status}\n' pocketsphinx 2>/dev/null | grep -q 'install ok installed' || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pocketsphinx; }
	$(SWIFT) build -c release
	.build/release/sparring-bench --turns $(TURNS_ARGS)

# The hub on loopback with PostgreSQL: 500 agents uploading 20,000 short
# sessions concurrently (uploads per second, p95, none lost or doubled), then
# the dashboard and the session list with 100,000 sessions, and the hub's memory.
hub-bench: deps
	$(SWIFT) build -c release
	.build/release/sparring-bench --hub $(HUB_BENCH_ARGS)

# The long soak: calls back to back for SOAK_MINUTES through PulseAudio null
# sinks (ALSA's pulse PCM), one core kept busy, xruns counted.
SOAK_MINUTES ?= 30
soak: deps
	@dpkg-query -W -f='$${Status}\n' pulseaudio libasound2-plugins 2>/dev/null | grep -c 'install ok installed' | grep -q 2 || \
		{ $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq pulseaudio libasound2-plugins; }
	$(SWIFT) build -c release
	.build/release/sparring-bench --soak $(SOAK_MINUTES) $(BENCH_ARGS)

# Hostile input against the command line: FUZZ_N scenario files and FUZZ_N
# crafted session folders, each command in its own process with a 2 s limit;
# crashes, hangs and problems without file:line are counted. Then
# FUZZ_MESSAGES malformed, oversized and deep requests to a running sparringd,
# half-closed clients and a flood of connections; answers are counted.
FUZZ_N ?= 1000
FUZZ_MESSAGES ?= 10000
fuzz: build
	.build/release/sparring-bench --fuzz $(FUZZ_N) --messages $(FUZZ_MESSAGES)

# Binaries, scenarios, voices, the user unit and a default config (kept if
# one is already there). PREFIX and DESTDIR as usual; then, as the agent:
#   systemctl --user daemon-reload && systemctl --user enable --now sparringd
install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/scenarios/scripts $(DESTDIR)$(SHAREDIR)/voices \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(ETCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 .build/$(CONFIG)/sparring .build/$(CONFIG)/sparringd .build/$(CONFIG)/sparring-hub $(DESTDIR)$(BINDIR)/
	install -m 0644 scenarios/*.yaml scenarios/README.md $(DESTDIR)$(SHAREDIR)/scenarios/
	install -m 0644 scenarios/scripts/*.txt $(DESTDIR)$(SHAREDIR)/scenarios/scripts/
	install -m 0644 voices/*.yaml $(DESTDIR)$(SHAREDIR)/voices/
	install -m 0644 README.md systemd/PROTOCOL.md systemd/HUB-API.md $(DESTDIR)$(DOCDIR)/
	# Man pages and shell completions, generated by swift-argument-parser from the commands themselves.
	$(SWIFT) package plugin generate-manual >/dev/null
	install -d $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0644 $(MANOUT)/sparring/sparring.1 $(MANOUT)/sparringd/sparringd.1 $(MANOUT)/sparring-hub/sparring-hub.1 $(DESTDIR)$(MANDIR)/
	for tool in sparring sparringd sparring-hub; do \
		.build/$(CONFIG)/$$tool --generate-completion-script bash > $(DESTDIR)$(BASHCOMPDIR)/$$tool && \
		.build/$(CONFIG)/$$tool --generate-completion-script zsh > $(DESTDIR)$(ZSHCOMPDIR)/_$$tool && \
		.build/$(CONFIG)/$$tool --generate-completion-script fish > $(DESTDIR)$(FISHCOMPDIR)/$$tool.fish || exit 1; \
	done
	sed 's|/usr/local|$(PREFIX)|g' systemd/sparringd.service > $(DESTDIR)$(UNITDIR)/sparringd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sparringd.service
	install -d $(DESTDIR)$(SYSUNITDIR)
	sed 's|/usr/local|$(PREFIX)|g' systemd/sparring-hub.service > $(DESTDIR)$(SYSUNITDIR)/sparring-hub.service
	chmod 0644 $(DESTDIR)$(SYSUNITDIR)/sparring-hub.service
	[ -e $(DESTDIR)$(ETCDIR)/hub.env ] || install -m 0644 systemd/sparring-hub.env $(DESTDIR)$(ETCDIR)/hub.env
	[ -e $(DESTDIR)$(ETCDIR)/sparringd.yaml ] || \
		{ sed 's|/usr/local|$(PREFIX)|g' systemd/sparringd.yaml > $(DESTDIR)$(ETCDIR)/sparringd.yaml; chmod 0644 $(DESTDIR)$(ETCDIR)/sparringd.yaml; }
	@echo "Installed under $(DESTDIR)$(PREFIX). Start the daemon: systemctl --user daemon-reload && systemctl --user enable --now sparringd"

# Removes what install put there; a config file you changed is kept.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sparring $(DESTDIR)$(BINDIR)/sparringd $(DESTDIR)$(BINDIR)/sparring-hub $(DESTDIR)$(UNITDIR)/sparringd.service
	rm -f $(DESTDIR)$(SYSUNITDIR)/sparring-hub.service
	rm -f $(DESTDIR)$(MANDIR)/sparring.1 $(DESTDIR)$(MANDIR)/sparringd.1 $(DESTDIR)$(MANDIR)/sparring-hub.1
	for tool in sparring sparringd sparring-hub; do \
		rm -f $(DESTDIR)$(BASHCOMPDIR)/$$tool $(DESTDIR)$(ZSHCOMPDIR)/_$$tool $(DESTDIR)$(FISHCOMPDIR)/$$tool.fish; \
	done
	@if [ -e $(DESTDIR)$(ETCDIR)/hub.env ] && cmp -s systemd/sparring-hub.env $(DESTDIR)$(ETCDIR)/hub.env; then rm -f $(DESTDIR)$(ETCDIR)/hub.env; fi
	rm -rf $(DESTDIR)$(SHAREDIR) $(DESTDIR)$(DOCDIR)
	@if [ -e $(DESTDIR)$(ETCDIR)/sparringd.yaml ] && sed 's|/usr/local|$(PREFIX)|g' systemd/sparringd.yaml | cmp -s - $(DESTDIR)$(ETCDIR)/sparringd.yaml; then \
		rm -f $(DESTDIR)$(ETCDIR)/sparringd.yaml; rmdir $(DESTDIR)$(ETCDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(ETCDIR)/sparringd.yaml ]; then echo "kept $(DESTDIR)$(ETCDIR)/sparringd.yaml (changed since install)"; fi

clean:
	rm -rf .build $(DEMO_OUT)
