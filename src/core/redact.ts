/** Replaces every occurrence of the API key (and any Bearer token) in text, so a server echoing it back cannot leak it. */
export function redact(text: string, secret: string | null | undefined): string {
  let out = text.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1[REDACTED]');
  if (secret && secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  return out;
}
