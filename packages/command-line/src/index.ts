export * as CommandLine from "./CommandLine.js"
