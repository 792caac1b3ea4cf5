// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "hoist",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "hoist", targets: ["hoist"]),
    .executable(name: "docker-credential-hoist", targets: ["docker-credential-hoist"]),
    .library(
      name: "HoistKit",
      targets: ["OCI", "Streams", "Transport", "AWS", "Archives", "Registry", "Transfer", "ECR", "Mirror", "Hoist"]),
  ],
  dependencies: [
    .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
    .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
  ],
  targets: [
    // Floor 0: system libraries.
    .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
    .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .target(name: "CProcess"),

    // Floor 1: the image model (no I/O) and byte pipelines.
    .target(name: "OCI"),
    .target(name: "Streams", dependencies: ["OCI", "CArchive", "CCrypto", "CZlib", "CDeflate", "CZstd"]),

    // Floor 2: HTTP with TLS, proxies and safe redirects; AWS signing, credentials and the ECR API.
    .target(
      name: "Transport",
      dependencies: [
        "OCI",
        .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ]),
    .target(
      name: "AWS",
      dependencies: [
        "OCI", "Streams", "Transport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
      ]),

    // Floor 3: places images live, and the copy engine between them.
    .target(name: "Archives", dependencies: ["OCI", "Streams"]),
    .target(
      name: "Registry",
      dependencies: [
        "OCI", "Streams", "Transport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOFoundationCompat", package: "swift-nio"),
      ]),
    .target(name: "Transfer", dependencies: ["OCI", "Streams"]),
    .target(name: "ECR", dependencies: ["OCI", "AWS", "Registry"]),
    .target(name: "Mirror", dependencies: ["OCI", .product(name: "Yams", package: "Yams")]),

    // Floor 4: what a command does, as a library: locations, sessions and plans.
    .target(
      name: "Hoist",
      dependencies: ["OCI", "Streams", "Archives", "Registry", "Transfer", "Transport", "AWS", "ECR", "Mirror"]),

    // Floor 5: the command line.
    .target(
      name: "HoistCLI",
      dependencies: [
        "Hoist", "OCI", "Streams", "Archives", "Registry", "Transfer", "Transport", "AWS", "ECR", "Mirror", "CProcess",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "hoist", dependencies: ["HoistCLI"]),
    .executableTarget(name: "docker-credential-hoist", dependencies: ["HoistCLI"]),

    // The registry in memory that the unit tests above the HTTP seam talk to.
    .target(
      name: "TestSupport",
      dependencies: [
        "OCI", "Streams", "Transport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      path: "Tests/TestSupport"),
    .testTarget(name: "OCITests", dependencies: ["OCI"]),
    .testTarget(name: "MirrorTests", dependencies: ["Mirror"]),
    .testTarget(name: "StreamsTests", dependencies: ["Streams", "CZstd", "CZlib", "OCI"]),
    .testTarget(name: "ArchivesTests", dependencies: ["Archives", "OCI", "Streams"]),
    .testTarget(
      name: "RegistryTests",
      dependencies: [
        "Registry", "OCI", "Streams", "Transport", "Transfer", "ECR", "AWS", "Archives", "TestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    .testTarget(name: "TransferTests", dependencies: ["Transfer", "OCI", "Streams"]),
    .testTarget(
      name: "HoistTests",
      dependencies: ["Hoist", "OCI", "Archives", "Registry", "Transfer", "Transport", "AWS", "ECR", "TestSupport"]),
    .testTarget(name: "AWSTests", dependencies: ["AWS", "Streams"]),
    .testTarget(name: "FuzzTests", dependencies: ["Archives", "OCI", "Registry", "Streams"]),
    .testTarget(
      name: "PropertyTests",
      dependencies: [
        "OCI", "Transport", "AWS", "Registry", "Hoist",
        .product(name: "PropertyBased", package: "swift-property-based"),
      ]),
  ]
)
