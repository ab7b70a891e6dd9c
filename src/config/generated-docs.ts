import { renderConfigDocs, renderExampleEnv } from './render-config-docs.ts'
import { renderErrorDocs } from '../errors/render-error-docs.ts'

/** Files in the repo that are generated from code (path relative to the repo root → renderer). */
export const generatedDocs: Readonly<Record<string, () => string>> = {
  'docs/config.md': renderConfigDocs,
  'docs/errors.md': renderErrorDocs,
  'example.env': renderExampleEnv
}
