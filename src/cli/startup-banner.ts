/** What the first start created; secrets appear here exactly once. */
export interface FirstStart {
  readonly adminKey: string | null
  readonly demoKey: string | null
}

export interface BannerInput {
  readonly url: string
  readonly configFile: string | null
  readonly firstStart: FirstStart
  readonly upstreams: string
}

/**
 * The start-up message on stderr (logs go to stdout as JSON). It is the only place a secret
 * is ever printed: the bootstrap admin key and the demo key, once, on the start that made them.
 */
export function startupBanner (input: BannerInput): string {
  const { url, firstStart } = input
  const apiKey = firstStart.demoKey ?? '$PORTCULLIS_API_KEY'
  const lines = [
    '',
    `  Portcullis is listening on ${url}`,
    `  config: ${input.configFile ?? 'built-in defaults + environment'}`,
    `  upstreams: ${input.upstreams}`,
    ''
  ]
  if (firstStart.adminKey !== null) {
    lines.push(
      '  Bootstrap admin key (shown once, store it now — it manages keys through /admin/v1):',
      `    ${firstStart.adminKey}`,
      '  Use it with the CLI:  export PORTCULLIS_ADMIN_KEY=<that key>',
      ''
    )
  }
  if (firstStart.demoKey !== null) {
    lines.push('  Demo API key for the mock models (shown once, expires in 24 h):', `    ${firstStart.demoKey}`, '')
  } else {
    lines.push('  Create an API key:  ./bin/portcullis.js keys create --name my-app --scopes chat --ttl 24h', '')
  }
  lines.push(
    '  Try it:',
    `    curl -s ${url}/v1/chat/completions -H "Authorization: Bearer ${apiKey}" \\`,
    '      -H "Content-Type: application/json" \\',
    '      -d \'{"model":"mock-gpt","messages":[{"role":"user","content":"Hello"}]}\'',
    '',
    '  With the openai SDK (npm install openai):',
    `    const client = new OpenAI({ baseURL: '${url}/v1', apiKey: '${apiKey}' })`,
    "    const reply = await client.chat.completions.create({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hello' }] })",
    ''
  )
  return lines.join('\n')
}
