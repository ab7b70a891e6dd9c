import type { KeyService } from '../auth/key-service.ts'
import type { ClientService } from '../oauth/client-service.ts'
import type { SigningKeyManager } from '../oauth/signing-key-manager.ts'
import type { PersistentTokenDenyList } from '../oauth/persistent-token-deny-list.ts'
import type { Logger } from '../pipeline/context.ts'
import type { ChangeBus } from './change-bus.ts'

export interface Broadcast {
  readonly keys: KeyService
  readonly clients: ClientService
  readonly denyList: PersistentTokenDenyList
  readonly signingKeys: SigningKeyManager | null
}

/**
 * The services as the admin API and the OAuth endpoints use them: every change is applied
 * locally (the service does that) and then published, so the other instances drop the entry
 * from their caches. A failed publish is logged by the bus; the other instances then see the
 * change when their cache entry expires, as without Redis.
 */
export function broadcastChanges (services: Broadcast, bus: ChangeBus): Broadcast {
  if (bus.kind === 'local') return services
  const { keys, clients, denyList, signingKeys } = services
  const key = <T>(id: string, result: T): T => { bus.publish({ type: 'key', id }); return result }
  const client = <T>(id: string, result: T): T => { bus.publish({ type: 'client', id }); return result }
  return {
    keys: {
      ...keys,
      create: async (input) => { const issued = await keys.create(input); return key(issued.key.id, issued) },
      revoke: async (id) => key(id, await keys.revoke(id)),
      rotate: async (id, grace) => key(id, await keys.rotate(id, grace))
    },
    clients: {
      ...clients,
      create: async (input) => { const issued = await clients.create(input); return client(issued.client.id, issued) },
      disable: async (id) => client(id, await clients.disable(id)),
      enable: async (id) => client(id, await clients.enable(id)),
      rotate: async (id, grace) => client(id, await clients.rotate(id, grace)),
      revokeTokens: async (id) => client(id, await clients.revokeTokens(id)),
      delete: async (id) => client(id, await clients.delete(id))
    },
    denyList: {
      ...denyList,
      revoke: async (jti, expiresAt) => {
        await denyList.revoke(jti, expiresAt)
        bus.publish({ type: 'jti' })
      }
    },
    signingKeys: signingKeys === null
      ? null
      : {
          ...signingKeys,
          rotate: async (alg) => {
            const summary = await signingKeys.rotate(alg)
            bus.publish({ type: 'signing-keys' })
            return summary
          }
        }
  }
}

/** Applies other instances' changes to this instance's caches. */
export function applyRemoteChanges (services: Broadcast, bus: ChangeBus, log: Logger, reloadLimits: () => Promise<void>): void {
  const { keys, clients, denyList, signingKeys } = services
  const report = (what: string) => (err: unknown): void => { log.error({ err }, `reloading ${what} after a change on another instance failed`) }
  bus.subscribe((event) => {
    switch (event.type) {
      case 'key': keys.invalidate(event.id); break
      case 'client': clients.invalidate(event.id); break
      case 'jti': denyList.reload().catch(report('revoked tokens')); break
      case 'signing-keys': signingKeys?.reload().catch(report('signing keys')); break
      case 'policies':
      case 'prices': reloadLimits().catch(report('policies and prices')); break
      case 'resync':
        keys.invalidate(null)
        clients.invalidate(null)
        denyList.reload().catch(report('revoked tokens'))
        signingKeys?.reload().catch(report('signing keys'))
        reloadLimits().catch(report('policies and prices'))
        break
    }
  })
}
