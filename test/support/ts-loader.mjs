// Lets a plain `node` child process import the project's TypeScript sources (tests that must watch a
// real process exit). Usage: node --import ./test/support/ts-loader.mjs script.mjs
// Type-strips with the project's own TypeScript (transpileModule; no type check) and maps the
// NodeNext-style `./x.js` imports back to `./x.ts`.
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
