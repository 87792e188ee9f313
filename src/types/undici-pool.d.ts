// undici's Pool class, loaded from its own module (see src/runpod/client.ts): the same class `undici` exports.
declare module 'undici/lib/dispatcher/pool.js' {
  import { Pool } from 'undici';
  export default Pool;
}
