// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Sparring",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sparring", targets: ["sparring"]),
        .executable(name: "sparringd", targets: ["sparringd"]),
        .executable(name: "sparring-hub", targets: ["sparring-hub"]),
        .library(name: "SparringCore", targets: ["SparringCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // Without swift-configuration (ConfigurationSupport): the hub reads its settings itself.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // The product's heart: scenario model and loader, move recognition,
        // the caller engine (a pure state machine) and scoring. No I/O but
        // reading scenario files.
        .target(
            name: "SparringCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // One system target per C library (pkg-config and Debian providers).
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CPocketSphinx", pkgConfig: "pocketsphinx",
                       providers: [.apt(["libpocketsphinx-dev", "libsphinxbase-dev", "pocketsphinx-en-us"])]),
        .systemLibrary(name: "CEspeakNG", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),
        .systemLibrary(name: "CSpeexDSP", pkgConfig: "speexdsp", providers: [.apt(["libspeexdsp-dev"])]),
        // Ogg Opus encoding of the report's embedded recording.
        .systemLibrary(name: "COpusEnc", pkgConfig: "libopusenc", providers: [.apt(["libopusenc-dev"])]),
        // Sonic (no pkg-config file): speech speed-up and slow-down that keeps the pitch, for replay.
        .systemLibrary(name: "CSonic", providers: [.apt(["libsonic-dev"])]),
        // Speech: the recognizer, the synthesizer and the resampler over the C libraries.
        .target(
            name: "SparringSpeech",
            dependencies: ["SparringCore", "CPocketSphinx", "CEspeakNG", "CSpeexDSP"]
        ),
        // Session files: the log a call writes, crash repair, retention, the
        // supervisors' store and SQLite index, and the HTML report.
        .target(
            name: "SparringSessions",
            dependencies: ["SparringCore", "COpusEnc", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The full-duplex audio loop, the lines it runs on, and the live call pipeline.
        .target(
            name: "SparringAudio",
            dependencies: ["SparringCore", "SparringSessions", "SparringSpeech", "CALSA", "CSonic"]
        ),
        // sparringd's parts: config, the call desk, the control socket and protocol, systemd glue.
        .target(
            name: "SparringDaemon",
            dependencies: [
                "SparringCore", "SparringSessions", "SparringSpeech", "SparringAudio", "SparringHubClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sparringd",
            dependencies: [
                "SparringCore", "SparringDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sparring",
            dependencies: [
                "SparringCore", "SparringSessions", "SparringSpeech", "SparringAudio", "SparringDaemon", "SparringHubClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Lossless storage of the hub's recordings.
        .systemLibrary(name: "CFLAC", pkgConfig: "flac", providers: [.apt(["libflac-dev"])]),
        // The team's server: routes, store, sign-in, pages and the uploads agents' machines send.
        .target(
            name: "SparringHub",
            dependencies: [
                "SparringCore", "SparringSessions", "CFLAC",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // What an agent's machine needs to reach a hub: joining, pushing sessions, listing them.
        .target(
            name: "SparringHubClient",
            dependencies: ["SparringCore", "SparringSessions"]
        ),
        .executableTarget(
            name: "sparring-hub",
            dependencies: [
                "SparringHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Real-time benchmark: calls on paced FIFO lines against sparring run.
        .executableTarget(
            name: "sparring-bench",
            dependencies: ["SparringCore", "SparringSessions", "SparringSpeech", "SparringAudio", "SparringDaemon",
                           "SparringHub", "SparringHubClient"]
        ),
        // What the tests share: child processes run to their end, blocking work off the tasks' threads.
        .target(name: "SparringTestSupport", path: "Tests/SparringTestSupport"),
        .testTarget(
            name: "SparringCoreTests",
            dependencies: ["SparringCore", "SparringTestSupport"],
            exclude: ["Fixtures"]
        ),
        // Fast tests of the daemon's and the session store's logic (no audio).
        .testTarget(
            name: "SparringDaemonTests",
            dependencies: ["SparringCore", "SparringSessions", "SparringDaemon",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio")],
            exclude: ["Fixtures"]
        ),
        // The hub on loopback: real HTTP, real SQLite, real uploads.
        .testTarget(
            name: "SparringHubTests",
            dependencies: ["SparringCore", "SparringSessions", "SparringHub", "SparringHubClient", "SparringDaemon", "SparringTestSupport",
                           .product(name: "Hummingbird", package: "hummingbird")]
        ),
        // Counts one thread's heap allocations, for the test that the audio thread makes none.
        .target(name: "CAllocCount", path: "Tests/CAllocCount"),
        .testTarget(
            name: "SparringLiveTests",
            dependencies: ["SparringCore", "SparringSessions", "SparringSpeech", "SparringAudio", "SparringDaemon", "CAllocCount",
                           "SparringTestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// A module's extensions are visible only where that module is imported (SE-0444): GRDB's
// `joined` on sequences of strings must not reach code that never queries a database.
for target in package.targets where target.type != .system && target.name != "CAllocCount" {
    target.swiftSettings = (target.swiftSettings ?? []) + [.enableUpcomingFeature("MemberImportVisibility")]
}
