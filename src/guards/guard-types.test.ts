import { test } from 'node:test'
import assert from 'node:assert/strict'
import { piiTypeNames, secretTypeNames } from '../config/guards-schema.ts'
import { piiTypes } from './pii-detector.ts'
import { secretRules } from './secret-rules.ts'

// The config schema names finding types without importing the detectors (config sits below the
// stage folders); these lists must stay in step, or a policy could not name a new type.
test('the config names every PII type the detector reports', () => {
  assert.deepEqual([...piiTypeNames].sort(), [...piiTypes].sort())
})

test('the config names every secret type the detector reports', () => {
  const reported = new Set(secretRules.map((r) => r.type.replace(/^secret\./, '')))
  reported.add('private_key')
  assert.deepEqual([...secretTypeNames].sort(), [...reported].sort())
})
