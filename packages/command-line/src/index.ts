export * as CommandLine from "./CommandLine.js"
export * as CommandLineTest from "./CommandLineTest.js"
