/**
 * Probe URLs: where a key may be sent. The key only ever travels in a
 * header, so the URL is built from the catalog (or an override) alone.
 */
import type { SecretSpec } from '../catalog/types.js'
import { BUILTIN_PROBE_ORIGINS, catalogOriginProblem } from '../catalog/origins.js'
import { KeyfleetError } from '../errors.js'

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i

/**
 * Joins a base URL and a path into the probe URL.
 * Allowed: https anywhere, http only on loopback (tests, a local gateway), so
 * a key never crosses a network in clear text; no credentials, query or fragment.
 * @throws KeyfleetError `PROBE_BASE_URL_INVALID` naming what to fix (the URL's credentials are never echoed).
 */
export const probeUrl = (baseUrl: string, path: string): URL => {
    let base: URL
    try {
        base = new URL(baseUrl)
    } catch {
        throw new KeyfleetError('PROBE_BASE_URL_INVALID', `"${baseUrl.slice(0, 80)}" is not an absolute URL; give a base URL such as https://gateway.example.com/openai`)
    }
    if (base.username !== '' || base.password !== '') {
        throw new KeyfleetError('PROBE_BASE_URL_INVALID', `a probe base URL must not carry credentials (${base.protocol}//${base.host}); the key is the only credential sent`)
    }
    const where = `${base.protocol}//${base.host}${base.pathname}`
    if (base.protocol !== 'https:' && !(base.protocol === 'http:' && LOOPBACK.test(base.hostname))) {
        throw new KeyfleetError('PROBE_BASE_URL_INVALID', `${where} is not https: keys are only sent over https (plain http is allowed for localhost / 127.0.0.1 only)`)
    }
    if (base.search !== '' || base.hash !== '') {
        throw new KeyfleetError('PROBE_BASE_URL_INVALID', `${where}: a probe base URL takes no query or fragment`)
    }
    return new URL(`${base.origin}${base.pathname.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`)
}

/**
 * Origins (`https://host[:port]`) in `list`, normalized; entries that are not
 * URLs are refused so a typo cannot silently allow nothing (or everything).
 * @throws KeyfleetError `PROBE_ORIGIN_LIST_INVALID`.
 */
export const parseAllowedOrigins = (list: readonly string[]): string[] =>
    list.map((entry) => entry.trim()).filter((entry) => entry !== '').map((entry) => {
        let url: URL
        try { url = new URL(entry) } catch {
            throw new KeyfleetError('PROBE_ORIGIN_LIST_INVALID', `allowed origin "${entry.slice(0, 80)}" is not a URL; give origins such as https://gateway.example.com, comma-separated`)
        }
        return url.origin
    })

/**
 * Refuses, before any request, a catalog probe whose origin is neither the
 * built-in provider's nor on `allowed` (see {@link catalogOriginProblem}).
 * @throws KeyfleetError `PROBE_ORIGIN_NOT_ALLOWED`.
 */
export const assertCatalogOrigin = (spec: SecretSpec, allowed: readonly string[]): void => {
    if (!spec.probe) return
    const problem = catalogOriginProblem(spec.service, spec.probe.baseUrl, BUILTIN_PROBE_ORIGINS.get(spec.service), allowed)
    if (problem) throw new KeyfleetError('PROBE_ORIGIN_NOT_ALLOWED', `no key was sent: ${problem}`)
}
