import { GatewayError, isGatewayError } from './gateway-error.ts'

export interface ErrorBody {
  error: { message: string, type: string, param: string | null, code: string }
}

/** Turns anything thrown into a GatewayError; unknown errors become `internal_error`, never leaking details. */
export function toGatewayError (err: unknown): GatewayError {
  if (isGatewayError(err)) return err
  return new GatewayError('internal_error', { cause: err })
}

/** The OpenAI error envelope. Built from an object, never from string templates. */
export function errorBody (err: GatewayError): ErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } }
}

/** The same envelope as one SSE event, for errors after a stream has started. */
export function errorEvent (err: GatewayError): string {
  return 'data: ' + JSON.stringify(errorBody(err)) + '\n\n'
}
