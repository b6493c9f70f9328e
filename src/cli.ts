#!/usr/bin/env node
// The command line, `cargo-isolate` (bin/cargo-isolate), bundled into dist/cli.
import { runCli } from './cli-impl.js';

process.exitCode = await runCli(process.argv.slice(2));
