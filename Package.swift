// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "hoist",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "hoist", targets: ["hoist"]),
    .library(name: "HoistKit", targets: ["OCI", "Streams", "Archives", "Registry", "Transfer"]),
  ],
  dependencies: [
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
  ],
  targets: [
    // Floor 0: system libraries.
    .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
    .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

    // Floor 1: the image model (no I/O) and byte pipelines.
    .target(name: "OCI"),
    .target(name: "Streams", dependencies: ["CArchive", "CCrypto", "CZlib"]),

    // Floor 3: places images live, and the copy engine between them.
    .target(name: "Archives", dependencies: ["OCI", "Streams"]),
    .target(
      name: "Registry",
      dependencies: [
        "OCI", "Streams",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]),
    .target(name: "Transfer", dependencies: ["OCI", "Streams"]),

    // Floor 4: the command line.
    .target(
      name: "HoistCLI",
      dependencies: [
        "OCI", "Streams", "Archives", "Registry", "Transfer",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "hoist", dependencies: ["HoistCLI"]),

    .testTarget(name: "OCITests", dependencies: ["OCI"]),
    .testTarget(name: "StreamsTests", dependencies: ["Streams"]),
    .testTarget(name: "ArchivesTests", dependencies: ["Archives", "OCI", "Streams"]),
    .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI"]),
    .testTarget(name: "TransferTests", dependencies: ["Transfer", "OCI", "Streams"]),
  ]
)
