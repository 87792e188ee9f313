/**
 * The Retry-After header of an HTTP answer, in ms. Part of the client: it reads headers, the engine only sees the
 * number (HttpError.retryAfterMs). RunPod answers 429 when over a rate limit; whether it sends Retry-After is
 * unverified (RUNPOD_API.md), so callers treat a missing value as "back off on your own".
 */

const DELTA_SECONDS = /^\d+(?:\.\d+)?$/;
/** An HTTP date has a clock time (hh:mm:ss) and a month name (IMF-fixdate, RFC 850 or asctime). */
const HTTP_DATE_TIME = /\b\d{1,2}:\d{2}:\d{2}\b/;
const HTTP_DATE_MONTH =
  /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-/i;
const HAS_ZONE = /\b(?:GMT|UTC|UT|Z)\b|[+-]\d{4}\b/i;

/**
 * Parses a `Retry-After` header value into ms: delta-seconds (`"3"`, `"1.5"`) or an HTTP date relative to `nowMs`
 * (asctime dates without a zone are GMT, as HTTP says). For an array (repeated header) the first value counts.
 * Returns undefined for a missing, empty, garbage or negative value, and for a date already in the past
 * (clock skew: the caller falls back to its own backoff rather than retrying at once).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string') return undefined;
  const s = first.trim();
  if (s === '') return undefined;

  if (DELTA_SECONDS.test(s)) {
    const ms = Math.round(Number(s) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }

  if (!HTTP_DATE_TIME.test(s) || !HTTP_DATE_MONTH.test(s)) return undefined;
  const at = Date.parse(HAS_ZONE.test(s) ? s : `${s} GMT`);
  if (!Number.isFinite(at) || !Number.isFinite(nowMs)) return undefined;
  const delta = at - nowMs;
  return delta >= 0 ? delta : undefined;
}
