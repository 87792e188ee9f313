#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Open sockets or timers must not keep a finished run alive.
setTimeout(() => process.exit(code), 1500).unref();
