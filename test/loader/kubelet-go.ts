/**
 * The kubelet's real AtomicWriter (k8s.io/kubernetes/pkg/volume/util, built
 * from tools/kube as `.tools/bin/atomic-writer` by
 * `scripts/ensure-tools.sh --with-kube`), driven from TypeScript. Where it is present it is the oracle
 * for how a Secret volume changes; test/loader/kubelet.ts (our copy of its
 * sequence) stands in only where it is missing, and says so.
 */
import { execFile, execFileSync } from 'node:child_process'
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KubeletVolume, type Payload } from './kubelet.js'

/** The k8s.io/kubernetes version tools/kube pins (scripts/ensure-tools.sh KUBE_VERSION). */
export const KUBE_VERSION = 'v1.33.13'

/** The checkout (this file also runs built, from dist/test/loader). */
const findRoot = (): string => {
    for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
        if (existsSync(join(dir, 'tools', 'kube', 'go.mod'))) return dir
    }
    return process.cwd()
}

/**
 * The pinned atomic-writer binary, or why it is not usable: absent, or built
 * from another k8s.io/kubernetes than {@link KUBE_VERSION}.
 */
export const atomicWriterBinary = (): { path: string } | { missing: string } => {
    const path = process.env.KEYFLEET_ATOMIC_WRITER ?? join(process.env.KEYFLEET_TOOLS_DIR ?? join(findRoot(), '.tools', 'bin'), 'atomic-writer')
    try { accessSync(path, constants.X_OK) } catch { return { missing: `${path} is missing (bash scripts/ensure-tools.sh --with-kube builds it)` } }
    let version: string
    try { version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim() } catch { return { missing: `${path} --version failed` } }
    if (version !== `atomic-writer k8s.io/kubernetes ${KUBE_VERSION}`) return { missing: `${path} reports "${version}", not k8s.io/kubernetes ${KUBE_VERSION}` }
    return { path }
}

/** What writes a Secret volume: the kubelet's Go code, or our TypeScript copy of its sequence. */
export interface VolumeWriter {
    readonly dir: string
    /** `kubelet` (the real AtomicWriter) or `copy` (test/loader/kubelet.ts). */
    readonly kind: 'kubelet' | 'copy'
    /** Writes one payload (file name → content, bytes kept exactly). */
    write(payload: Readonly<Record<string, string | Buffer>>): Promise<void>
}

/** A Secret volume written by the kubelet's own AtomicWriter, one process per write. */
export class GoAtomicWriter implements VolumeWriter {
    readonly kind = 'kubelet' as const
    constructor(readonly binary: string, readonly dir: string) {
        // The kubelet creates the volume directory before its first write; NewAtomicWriter requires it.
        mkdirSync(dir, { recursive: true })
    }

    write(payload: Readonly<Record<string, string | Buffer>>): Promise<void> {
        const json = JSON.stringify(Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, Buffer.from(v).toString('base64')])))
        return new Promise((resolve, reject) => {
            // The payload goes through stdin only: values never reach argv.
            const child = execFile(this.binary, [this.dir], { encoding: 'utf8' }, (error, _out, stderr) => {
                if (error) reject(new Error(`atomic-writer failed (${String(error.code)}): ${stderr.trim()}`))
                else resolve()
            })
            child.stdin?.end(json)
        })
    }
}

/** Our TypeScript copy of the sequence, behind the same interface. */
export class CopyWriter implements VolumeWriter {
    readonly kind = 'copy' as const
    readonly #volume: KubeletVolume
    constructor(readonly dir: string) { this.#volume = new KubeletVolume(dir) }
    write(payload: Readonly<Record<string, string | Buffer>>): Promise<void> {
        const p: Payload = Object.fromEntries(Object.entries(payload).map(([k, v]) => [k, Buffer.from(v).toString('utf8')]))
        this.#volume.write(p)
        return Promise.resolve()
    }
}

/**
 * A writer factory: the kubelet's binary when present, else our copy.
 * With KEYFLEET_REQUIRE_KUBE=1 (CI) a missing binary is an error.
 */
export const volumeWriters = (): { kind: 'kubelet' | 'copy'; reason: string; make: (dir: string) => VolumeWriter } => {
    const found = atomicWriterBinary()
    if ('path' in found) return { kind: 'kubelet', reason: `the kubelet's AtomicWriter (${found.path}, k8s.io/kubernetes ${KUBE_VERSION})`, make: (dir) => new GoAtomicWriter(found.path, dir) }
    if (process.env.KEYFLEET_REQUIRE_KUBE === '1') throw new Error(`the kubelet's AtomicWriter is required (KEYFLEET_REQUIRE_KUBE=1): ${found.missing}`)
    return { kind: 'copy', reason: `our TypeScript copy of the AtomicWriter sequence (test/loader/kubelet.ts), because ${found.missing}`, make: (dir) => new CopyWriter(dir) }
}
