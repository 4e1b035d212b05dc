/**
 * Differential harness: seeded random plaintexts and sops options, encrypted
 * by the real sops 3.13.2, decrypted by sops and natively; plus seeded
 * mutations of the encrypted text. Shared by the suite (small N) and
 * `npm run fuzz:sops` (KEYFLEET_FUZZ_N, KEYFLEET_FUZZ_SEED).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { decryptSopsFile, formatDecryptedBytes, type StoreKind } from '../../../src/sops/native/index.js'
import { isKeyfleetError } from '../../../src/errors.js'
import { sopsPath } from '../../helpers/tools.js'

/** mulberry32: small, seedable, good enough to pick test cases. */
export const rng = (seed: number): (() => number) => {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

type Rand = () => number
const int = (r: Rand, n: number): number => Math.floor(r() * n)
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)] as T

// Pieces that exercise quoting, escaping and Go's text forms; astral, LS/PS, NEL, controls, HTML characters.
const PIECES = ['a', 'Z', '0', '7', ' ', '  ', '=', '#', ' #', ':', ': ', '- ', '"', "'", '\\', '\\n', '\t', '<', '>', '&', 'é', '日本', '🔑', '\u2028', '\u2029', '\u0085', '\u00a0', '\u0007', '\ufeff', 'true', 'no', '0x1F', '1e3', '~', 'null', '{', '[', ',', '*', '&x', '!', '%', '@', '`', '|', '>-', '.inf', '-.Inf', '.nan', '\t\t']
const KEYCHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'

const text = (r: Rand, max = 6, newlines = false): string => {
    let s = ''
    // Line breaks, sometimes followed or preceded by U+2028/U+2029 (the start of a block-scalar line).
    for (let i = int(r, max + 1); i > 0; i--) s += newlines && r() < 0.12 ? pick(r, ['\n', '\n', '\n', '\n\u2028', '\n\u2029 ', '\u2028\n', '\n\t']) : pick(r, PIECES)
    // A leading tab on a value that spans lines: sops prints it as null in YAML (keyfleet refuses).
    if (newlines && r() < 0.04) s = `\t${s}\n${pick(r, PIECES)}`
    return s
}

const key = (r: Rand, store: StoreKind): string => {
    let k = pick(r, ['A', 'b', 'KEY', 'secret', 'data', 'x'])
    for (let i = int(r, 6); i > 0; i--) k += pick(r, [...KEYCHARS])
    if (store !== 'dotenv' && r() < 0.1) k += pick(r, [' key', '-é', '.dot'])
    if (r() < 0.15) k += pick(r, ['_unencrypted', '_enc', '_plain'])
    // Long keys around yaml.v3's 128-byte simple-key limit, counted in bytes before quoting (sops writes `? key` above it).
    if (store !== 'dotenv' && r() < 0.05) k = pick(r, ['k'.repeat(130), 'é'.repeat(63 + int(r, 3)), '日'.repeat(42 + int(r, 2)), `#${'k'.repeat(126 + int(r, 3))}`, `${'🔑'.repeat(32)}${pick(r, ['', 'a'])}`])
    return k
}

const scalar = (r: Rand): unknown => {
    switch (int(r, 7)) {
        case 0: return int(r, 1000) - 500
        case 1: return r() < 0.1 ? pick(r, [Infinity, -Infinity, NaN]) : Math.round(r() * 1e6) / 1e3
        case 2: return r() < 0.5
        case 3: return null
        default: return text(r, 6, true)
    }
}

const tree = (r: Rand, store: StoreKind, depth: number): unknown => {
    const roll = r()
    if (depth > 2 || roll < 0.6) return scalar(r)
    if (roll < 0.8) return Array.from({ length: int(r, 4) }, () => tree(r, store, depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = int(r, 4); i > 0; i--) o[key(r, store)] = tree(r, store, depth + 1)
    return o
}

/** A generated case: the plaintext as sops reads it and the flags for `sops encrypt`; `input` when it is not `store`. */
export interface Case { readonly store: StoreKind; readonly plain: Buffer; readonly flags: readonly string[]; readonly description: string; readonly input?: StoreKind }

const FLAG_SETS: readonly (readonly string[])[] = [
    [], [], ['--unencrypted-suffix', '_unencrypted'], ['--encrypted-suffix', '_enc'], ['--encrypted-regex', '^(A|KEY|secret)'],
    ['--unencrypted-regex', '^(b|x)'], ['--mac-only-encrypted'], ['--mac-only-encrypted', '--encrypted-regex', '^(A|data)'],
    ['--encrypted-comment-regex', 'enc'], ['--unencrypted-comment-regex', 'plain'],
]

const comment = (r: Rand): string => pick(r, ['enc', 'plain', 'note', ' spaced', '#hash', ' é 🔑', '']) + text(r, 2)

/** One random case for `store`. */
export const generate = (r: Rand, store: StoreKind): Case => {
    const flags = store === 'binary' ? pick(r, [[], ['--mac-only-encrypted']]) : pick(r, FLAG_SETS)
    let plain: Buffer
    if (store === 'binary') {
        plain = r() < 0.5 ? Buffer.from(Array.from({ length: int(r, 40) + 1 }, () => int(r, 256))) : Buffer.from(text(r, 12, true))
    } else if (store === 'dotenv') {
        const lines: string[] = []
        for (let i = int(r, 6) + 1; i > 0; i--) {
            if (r() < 0.2) lines.push(`#${comment(r)}`)
            else lines.push(`${key(r, store)}=${text(r, 6).replaceAll('\n', '')}`)
        }
        plain = Buffer.from(`${lines.join('\n')}\n`)
    } else {
        const root: Record<string, unknown> = {}
        for (let i = int(r, 5) + 1; i > 0; i--) root[key(r, store)] = tree(r, store, 0)
        if (store === 'json') plain = Buffer.from(JSON.stringify(root, null, r() < 0.5 ? 2 : undefined))
        else {
            let y = stringify(root, { lineWidth: 0 })
            // Comments at the top and between top-level keys; sops keeps them (and may encrypt them).
            if (r() < 0.5) y = `# ${comment(r)}\n${y}`
            if (r() < 0.4) y = y.replace(/\n(?=[A-Za-z])/, `\n#${comment(r)}\n`)
            if (r() < 0.3) y = y.replace(/^([A-Za-z][^\n:]*: [^\n|>'"{[]+)$/m, `$1 # ${comment(r)}`)
            // A line comment on a block scalar's header (`key: |- # text`), which sops keeps there when plaintext.
            if (r() < 0.3) y = y.replace(/^( *[A-Za-z][^\n:]*: [|>][-+0-9]*)$/m, `$1 # ${comment(r)}`)
            plain = Buffer.from(y)
        }
    }
    return { store, plain, flags, description: `${store} ${JSON.stringify(flags)} ${JSON.stringify(plain.toString('utf8').slice(0, 200))}` }
}

const BREAKS = ['a', 'b', ' ', '  ', '\n', '\n', '\u2028', '\u2029', '\n\u2028', '\n\u2029', '\u2028\n', '\u0085', '\t', '#', ': ', '- ', 'é', '🔑', "'", '"', '---', '\\']

/**
 * A YAML file that sops writes from JSON input (so sops reads the values exactly as generated), with values full
 * of line feeds, U+2028 and U+2029 in maps and lists, left unencrypted (`_unencrypted`, `--encrypted-regex`) so
 * that they are written as literal blocks with those characters at the start of lines.
 */
export const generateBreaks = (r: Rand): Case => {
    const value = (depth: number): unknown => {
        const roll = r()
        if (depth > 2 || roll < 0.5) { let s = ''; for (let i = int(r, 8) + 1; i > 0; i--) s += pick(r, BREAKS); return s }
        if (roll < 0.75) return Array.from({ length: int(r, 3) + 1 }, () => value(depth + 1))
        return Object.fromEntries(Array.from({ length: int(r, 3) + 1 }, (_, i) => [`k${i}${pick(r, ['', '_unencrypted', 'é'])}`, value(depth + 1)]))
    }
    const root = Object.fromEntries(Array.from({ length: int(r, 4) + 1 }, (_, i) => [`${pick(r, ['a', 'x', 'b'])}${i}${pick(r, ['_unencrypted', '_unencrypted', ''])}`, value(0)]))
    const flags = pick(r, [[], ['--encrypted-regex', '^b'], ['--mac-only-encrypted']])
    const plain = Buffer.from(JSON.stringify(root))
    return { store: 'yaml', input: 'json', plain, flags, description: `yaml from json ${JSON.stringify(flags)} ${plain.toString('utf8').slice(0, 200)}` }
}

const EXT: Record<StoreKind, string> = { dotenv: 'env', yaml: 'yaml', json: 'json', binary: 'bin' }
const GLOBAL = new Set(['--mac-only-encrypted', '--encrypted-comment-regex', '--unencrypted-comment-regex'])

/** Runs sops with `bytes` as the only file in a private temp dir; output as bytes. */
export const sops = (args: (file: string) => string[], name: string, bytes: Buffer | string, identity?: string): { status: number; stdout: Buffer; stderr: string } => {
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-diff-'))
    try {
        const file = join(dir, name)
        writeFileSync(file, bytes, { mode: 0o600 })
        const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: dir, SOPS_DISABLE_VERSION_CHECK: '1', ...(identity ? { SOPS_AGE_KEY: identity } : {}) }
        const r = spawnSync(sopsPath(), args(file), { cwd: dir, env })
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString('utf8') }
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}

/** `sops encrypt` of a case; undefined when sops refuses the plaintext itself (then there is nothing to compare). */
export const encrypt = (c: Case, recipients: readonly string[]): string | undefined => {
    const global: string[] = []
    const local: string[] = []
    for (let i = 0; i < c.flags.length; i++) {
        const f = c.flags[i] as string
        const target = GLOBAL.has(f) ? global : local
        target.push(f)
        if (f !== '--mac-only-encrypted' && f.startsWith('--') && c.flags[i + 1] !== undefined && !(c.flags[i + 1] as string).startsWith('--')) target.push(c.flags[++i] as string)
    }
    const r = sops((file) => [...global, 'encrypt', '--age', recipients.join(','), ...local, '--input-type', c.input ?? c.store, '--output-type', c.store, file], `plain.${EXT[c.input ?? c.store]}`, c.plain)
    return r.status === 0 ? r.stdout.toString('utf8') : undefined
}

/** Outcome of one decryption: the printed bytes, or the refusal. */
export type Outcome = { readonly ok: true; readonly out: Buffer } | { readonly ok: false; readonly code: string }

/** `sops decrypt` of `text` (printed as `output`, by default its own store). */
export const sopsDecrypt = (text: string, store: StoreKind, identity: string, output: StoreKind = store): Outcome => {
    const r = sops((file) => ['decrypt', '--input-type', store, '--output-type', output, file], `enc.${EXT[store]}`, text, identity)
    return r.status === 0 ? { ok: true, out: r.stdout } : { ok: false, code: `exit ${r.status}` }
}

const caught = (error: unknown): Outcome => {
    if (isKeyfleetError(error)) return { ok: false, code: error.code }
    throw error
}

/** Native decryption printed as sops would, once per output store; anything but a KeyfleetError is a bug and is rethrown. */
export const nativeDecryptAll = async (text: string, store: StoreKind, identity: string, outputs: readonly StoreKind[]): Promise<Outcome[]> => {
    let file
    try {
        file = await decryptSopsFile(text, { store, identities: [identity] })
    } catch (error) {
        const refused = caught(error)
        return outputs.map(() => refused)
    }
    return outputs.map((output) => {
        try {
            return { ok: true, out: formatDecryptedBytes(file, output) }
        } catch (error) {
            return caught(error)
        }
    })
}

/** Native decryption printed as `output` (by default the file's own store). */
export const nativeDecrypt = async (text: string, store: StoreKind, identity: string, output: StoreKind = store): Promise<Outcome> =>
    (await nativeDecryptAll(text, store, identity, [output]))[0] as Outcome

/** The file name sops gives each store by default (so no flag is needed for it). */
export const storeFileName = (store: StoreKind): string => `enc.${EXT[store]}`

/** Seeded mutations of an encrypted file: byte flips in values and metadata, relabels, duplicated and dropped lines. */
export const mutations = (r: Rand, text: string, count: number): { name: string; text: string }[] => {
    const out: { name: string; text: string }[] = []
    const lines = text.split('\n')
    const encs = [...text.matchAll(/ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:([a-z]+)\]/g)]
    const makers: (() => { name: string; text: string } | undefined)[] = [
        () => {
            const m = encs.length > 0 ? pick(r, encs) : undefined
            if (!m || m.index === undefined) return undefined
            const types = ['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes'].filter((t) => t !== m[4])
            const t = pick(r, types)
            const at = m.index + m[0].lastIndexOf(`type:${m[4] as string}`)
            return { name: `relabel ${m[4] as string}->${t}`, text: text.slice(0, at) + `type:${t}` + text.slice(at + 5 + (m[4] as string).length) }
        },
        () => {
            const i = int(r, text.length)
            const c = text[i] as string
            const next = c === 'A' ? 'B' : c === '\n' ? ' ' : 'A'
            return { name: `flip @${i}`, text: text.slice(0, i) + next + text.slice(i + 1) }
        },
        () => {
            const i = int(r, lines.length)
            return { name: `duplicate line ${i + 1}`, text: [...lines.slice(0, i + 1), lines[i] as string, ...lines.slice(i + 1)].join('\n') }
        },
        () => {
            const i = int(r, lines.length)
            return { name: `drop line ${i + 1}`, text: [...lines.slice(0, i), ...lines.slice(i + 1)].join('\n') }
        },
        () => {
            const v = pick(r, ['3.13', '', 'v3.13.2', '03.13.2', '3.13.2-rc.1', '1.0', '3.13.2+x', 'x'])
            const t = text.replace(/(version[":=\s]+)3\.13\.2/, `$1${v}`)
            return t === text ? undefined : { name: `version ${JSON.stringify(v)}`, text: t }
        },
        () => {
            if (encs.length < 2) return undefined
            const a = pick(r, encs); const b = pick(r, encs)
            if (a === b || a.index === undefined) return undefined
            return { name: 'swap ciphertexts', text: text.slice(0, a.index) + b[0] + text.slice(a.index + a[0].length) }
        },
        () => {
            const t = text.replace(/(lastmodified[":=\s]+)(\d{4}-\d\d-\d\dT\d\d:\d\d:)(\d\d)Z/, (_, p: string, d: string, s: string) => `${p}${d}${String((Number(s) + 1) % 60).padStart(2, '0')}Z`)
            return t === text ? undefined : { name: 'lastmodified +1s', text: t }
        },
    ]
    for (let tries = 0; out.length < count && tries < count * 10; tries++) {
        const m = pick(r, makers)()
        if (m && m.text !== text) out.push(m)
    }
    return out
}
