import { afterEach } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

/** Returns a starter of emulators; every emulator it started is closed after each test. */
export function emulatorsClosedAfterEach(): (o?: EmulatorOptions) => Promise<Emulator> {
  const open: Emulator[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close().catch(() => {})));
  });
  return async (o) => {
    const e = await startEmulator(o);
    open.push(e);
    return e;
  };
}

/** The environment of a spawned CLI that talks to an emulator with its default key. */
export const ENV = { RUNPOD_API_KEY: 'test-key' };
