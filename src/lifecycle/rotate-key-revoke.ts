/**
 * Step c of `rotate-key`: how to revoke the old key. Every provider gets the
 * exact instruction and its console link; two have an admin API that keyfleet
 * can call with an admin key the user passes (never argv: a file):
 *
 * - OpenAI project API keys: `GET /v1/organization/projects/{project}/api_keys`
 *   lists keys with a `redacted_value` (`sk-proj-abc…wxyz`), and
 *   `DELETE …/api_keys/{id}` deletes one.
 * - Anthropic Admin API: `GET /v1/organizations/api_keys` lists keys with a
 *   `partial_key_hint`, and `POST /v1/organizations/api_keys/{id}` with
 *   `{"status":"inactive"}` deactivates one (the API has no delete).
 *
 * The old key is found by its redacted form: exactly one listed key must
 * match, else nothing is changed. Idempotent: a key already gone (or inactive)
 * is reported as revoked. No value or admin key reaches a message.
 */
import { KeyfleetError } from '../errors.js'

/** Where a provider's keys are managed by hand, by catalog service. */
export const CONSOLE_LINKS: Readonly<Record<string, string>> = {
    openai: 'https://platform.openai.com/api-keys',
    anthropic: 'https://console.anthropic.com/settings/keys',
    gemini: 'https://aistudio.google.com/app/apikey',
    fireworks: 'https://fireworks.ai/account/api-keys',
    deepinfra: 'https://deepinfra.com/dash/api_keys',
}

/** Services whose old key keyfleet can revoke through an admin API. */
export const ADMIN_REVOKE = ['openai', 'anthropic'] as const

/** Options of {@link revokeByAdminApi}. */
export interface AdminRevokeOptions {
    readonly service: string
    /** The old key's value: only its redacted form is compared, it is never sent. */
    readonly oldValue: string
    readonly adminKey: string
    /** OpenAI: the project the key belongs to (`proj_…`). */
    readonly project?: string | undefined
    /** Base URL of the admin API (default the provider's; tests pass a loopback fake). */
    readonly baseUrl?: string | undefined
    readonly timeoutMs?: number | undefined
}

/** What the admin API did. */
export type RevokeOutcome = { readonly revoked: 'now' | 'already'; readonly id: string | undefined }

const fail = (message: string): KeyfleetError => new KeyfleetError('ROTATE_REVOKE_FAILED', message)

/** Does `redacted` (`sk-proj-abc...wxyz`, `sk-ant-api03-R2D...igAA`) describe `value`? */
export const matchesRedacted = (redacted: string, value: string): boolean => {
    const m = /^(.*?)(?:\.\.\.|…|\*{3,})(.*)$/.exec(redacted)
    if (!m) return false
    const [head, tail] = [m[1] as string, m[2] as string]
    return head.length + tail.length >= 8 && value.length > head.length + tail.length && value.startsWith(head) && value.endsWith(tail)
}

interface Listed { id: string; hint: string; active: boolean }

/**
 * Revokes the old key through the provider's admin API.
 * @throws KeyfleetError `ROTATE_REVOKE_FAILED` (HTTP error, no or several matching keys, unsupported provider).
 */
export const revokeByAdminApi = async (o: AdminRevokeOptions): Promise<RevokeOutcome> => {
    const timeout = o.timeoutMs ?? 15_000
    const call = async (method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<unknown> => {
        let res: Response
        try {
            res = await fetch(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'error', signal: AbortSignal.timeout(timeout) })
        } catch (error) {
            const code = (error as { cause?: { code?: unknown } }).cause?.code
            throw fail(`the ${o.service} admin API is unreachable (${typeof code === 'string' ? code : (error as Error).name}); revoke the key in the console instead`)
        }
        // The provider's error text is not repeated: it may quote the request.
        if (!res.ok) throw fail(`the ${o.service} admin API answered HTTP ${res.status} to ${method}; check the admin key${o.service === 'openai' ? ' and --openai-project' : ''}, or revoke the key in the console`)
        const text = await res.text()
        try { return text === '' ? {} : JSON.parse(text) } catch { throw fail(`the ${o.service} admin API did not answer JSON`) }
    }
    let list: (after: string | undefined) => Promise<{ items: Listed[]; next: string | undefined }>
    let revoke: (id: string) => Promise<void>
    if (o.service === 'openai') {
        if (o.project === undefined || !/^[A-Za-z0-9_-]{1,100}$/.test(o.project)) throw fail('revoking an OpenAI project key needs --openai-project proj_… (the project the key belongs to)')
        const base = `${(o.baseUrl ?? 'https://api.openai.com').replace(/\/+$/, '')}/v1/organization/projects/${o.project}/api_keys`
        const headers = { authorization: `Bearer ${o.adminKey}` }
        list = async (after) => {
            const doc = await call('GET', `${base}?limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, headers) as { data?: { id?: unknown; redacted_value?: unknown }[]; has_more?: unknown; last_id?: unknown }
            const items = (doc.data ?? []).filter((k) => typeof k.id === 'string' && typeof k.redacted_value === 'string').map((k) => ({ id: k.id as string, hint: k.redacted_value as string, active: true }))
            return { items, next: doc.has_more === true && typeof doc.last_id === 'string' ? doc.last_id : undefined }
        }
        revoke = async (id) => { await call('DELETE', `${base}/${encodeURIComponent(id)}`, headers) }
    } else if (o.service === 'anthropic') {
        const base = `${(o.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '')}/v1/organizations/api_keys`
        const headers = { 'x-api-key': o.adminKey, 'anthropic-version': '2023-06-01' }
        list = async (after) => {
            const doc = await call('GET', `${base}?limit=100${after ? `&after_id=${encodeURIComponent(after)}` : ''}`, headers) as { data?: { id?: unknown; partial_key_hint?: unknown; status?: unknown }[]; has_more?: unknown; last_id?: unknown }
            const items = (doc.data ?? []).filter((k) => typeof k.id === 'string' && typeof k.partial_key_hint === 'string').map((k) => ({ id: k.id as string, hint: k.partial_key_hint as string, active: k.status === 'active' }))
            return { items, next: doc.has_more === true && typeof doc.last_id === 'string' ? doc.last_id : undefined }
        }
        revoke = async (id) => { await call('POST', `${base}/${encodeURIComponent(id)}`, headers, { status: 'inactive' }) }
    } else {
        throw fail(`keyfleet cannot revoke ${o.service} keys through an API; revoke it in the console (${CONSOLE_LINKS[o.service] ?? 'the provider\'s console'})`)
    }
    const matches: Listed[] = []
    let after: string | undefined
    for (let page = 0; page < 100; page++) {
        const { items, next } = await list(after)
        matches.push(...items.filter((k) => matchesRedacted(k.hint, o.oldValue)))
        if (next === undefined) break
        after = next
    }
    if (matches.length > 1) throw fail(`${matches.length} ${o.service} keys match the old key's redacted form; revoke it in the console (${CONSOLE_LINKS[o.service] ?? ''}), nothing was changed`)
    const match = matches[0]
    if (match === undefined) return { revoked: 'already', id: undefined }
    if (!match.active) return { revoked: 'already', id: match.id }
    await revoke(match.id)
    return { revoked: 'now', id: match.id }
}
