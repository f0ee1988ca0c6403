// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sparring",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sparring", targets: ["sparring"]),
        .library(name: "SparringCore", targets: ["SparringCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
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
        // Speech: the recognizer, the synthesizer and the resampler over the C libraries.
        .target(
            name: "SparringSpeech",
            dependencies: ["SparringCore", "CPocketSphinx", "CEspeakNG", "CSpeexDSP"]
        ),
        // The full-duplex audio loop, the lines it runs on, and the live call pipeline.
        .target(
            name: "SparringAudio",
            dependencies: ["SparringCore", "SparringSpeech", "CALSA"]
        ),
        .executableTarget(
            name: "sparring",
            dependencies: [
                "SparringCore", "SparringSpeech", "SparringAudio",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Real-time benchmark: calls on paced FIFO lines against sparring run.
        .executableTarget(
            name: "sparring-bench",
            dependencies: ["SparringCore", "SparringSpeech", "SparringAudio"]
        ),
        .testTarget(
            name: "SparringCoreTests",
            dependencies: ["SparringCore"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SparringLiveTests",
            dependencies: ["SparringCore", "SparringSpeech", "SparringAudio"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
