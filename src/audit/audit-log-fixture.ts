import { openAuditFileWriter } from './audit-file-writer.ts'
import type { AuditFileWriterOptions } from './audit-file-writer.ts'
import type { AuditFields } from './audit-chain.ts'

/** A proxy-request record shaped like the ones the record stage will write (ARCHITECTURE.md). */
export function sampleAuditFields (i: number): AuditFields {
  return {
    timestamp_utc: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
    request_id: `req_${i.toString(36).padStart(8, '0')}`,
    api_key_id: 'key_0123456789',
    tenant: 'acme',
    endpoint: '/v1/chat/completions',
    model: 'gpt-4o-mini',
    upstream: 'openai',
    latency_ms: 120 + (i % 50),
    tokens_input: 42,
    tokens_output: 7,
    cost_usd: 0.000123,
    ip: '203.0.113.7',
    user_agent: 'openai-node/6',
    status: 200,
    error: null,
    guards: ['pii'],
    metadata: { team: 'search' }
  }
}

/**
 * Writes `count` sample records through a real writer and closes it, waiting for the queue to
 * drain every `queueSize` records so that any count fits.
 */
export async function writeAuditLogFixture (options: AuditFileWriterOptions, count: number, fields = sampleAuditFields): Promise<void> {
  const writer = await openAuditFileWriter(options)
  const chunk = options.queueSize ?? 10_000
  for (let i = 1; i <= count; i++) {
    writer.append(fields(i))
    if (i % chunk === 0) await writer.flush()
  }
  await writer.close()
}
