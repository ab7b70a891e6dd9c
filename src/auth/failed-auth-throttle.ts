/** Why an authentication failed, for the events kept for audit and anomaly detection. */
export type FailedAuthKind = 'invalid_api_key' | 'invalid_token' | 'invalid_client' | 'invalid_admin_credentials'

/**
 * Brute-force protection: failed authentications are counted per client IP and per client id;
 * past the threshold the source is refused for a cool-down, whether its next guess is right or not.
 */
export interface FailedAuthThrottle {
  /**
   * Seconds the caller must wait (the `retry-after` value, at least 1) when the IP or the client
   * id is cooling down; null when it may try. Synchronous and O(1): it runs on every request.
   */
  retryAfter (ip: string, clientId: string | null): number | null
  /** Counts one failure against the IP and, when known, the presented client id. */
  fail (ip: string, clientId: string | null, kind: FailedAuthKind): void
}
