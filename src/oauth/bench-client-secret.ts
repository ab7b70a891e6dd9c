// Measures client-secret verification at each scrypt cost: `node src/oauth/bench-client-secret.ts [runs]`.
import { cpus } from 'node:os'
import { generateClientSecret, hashClientSecret, verifyClientSecret } from './client-secret.ts'

const runs = Number(process.argv[2] ?? 15)
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'} (${cpus().length} cpus), ${process.platform}`)
for (const ln of [14, 15, 16]) {
  const params = { ln, r: 8, p: 1 }
  const secret = generateClientSecret()
  const stored = await hashClientSecret(secret, params)
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const start = performance.now()
    if (!await verifyClientSecret(secret, stored)) throw new Error('verification failed')
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)] ?? 0
  console.log(`scrypt ln=${ln} r=8 p=1: verify median ${median.toFixed(1)} ms, min ${(times[0] ?? 0).toFixed(1)} ms, max ${(times.at(-1) ?? 0).toFixed(1)} ms (${runs} runs)`)
}
