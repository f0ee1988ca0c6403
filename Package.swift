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
        .executableTarget(
            name: "sparring",
            dependencies: [
                "SparringCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SparringCoreTests",
            dependencies: ["SparringCore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
