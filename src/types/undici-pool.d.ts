// undici's Pool class, loaded from its own module (see src/runpod/client.ts): the same class `undici` exports.
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export default Pool;
}

// undici's socket connector, from its own module (src/runpod/stale-socket.ts wraps it): the same function `undici`
// exports as buildConnector.
declare module 'undici/lib/core/connect.js' {
  import { buildConnector } from 'undici';
  export default buildConnector;
}
