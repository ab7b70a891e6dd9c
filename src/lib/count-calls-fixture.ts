/** Test support: wraps an object so that every method call is counted by name in `calls`. */
export function countCalls<T extends object> (inner: T, calls: Record<string, number>): T {
  return new Proxy(inner, {
    get (target, prop) {
      const value: unknown = Reflect.get(target, prop)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1
        return Reflect.apply(value, target, args)
      }
    }
  })
}
