/**
 * Headers on every response: API answers must never be cached by intermediaries or indexed by
 * crawlers, and browsers must not sniff JSON as HTML. No `Server` or `X-Powered-By` is sent.
 */
export const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex, nofollow'
})
