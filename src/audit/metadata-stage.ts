import type { Stage } from '../pipeline/stage.ts'
import { metadataHeader, parseRequestMetadata } from './request-metadata.ts'

/**
 * Reads the caller's `x-portcullis-metadata` labels into `ctx.metadata` for the audit record.
 * It runs after authentication, like the body parser: an unauthenticated caller gets 401, not
 * feedback on its headers, and its labels are not recorded. The header is never forwarded
 * (providers build upstream headers from scratch, see src/upstream/openai-provider.ts).
 */
export function createMetadataStage (options: { readonly maxBytes: number }): Stage {
  const { maxBytes } = options
  return {
    name: 'audit-metadata',
    onRequest (ctx) {
      const value = ctx.headers[metadataHeader]
      if (value !== undefined) ctx.metadata = parseRequestMetadata(value, maxBytes)
    }
  }
}
