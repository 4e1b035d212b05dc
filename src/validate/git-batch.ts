/**
 * One `git cat-file --batch` per burst of reads instead of two git processes per file (`cat-file -e`,
 * then `show`): `keyfleet diff` read the catalog and every env.secrets that way, eight spawns of its ten
 * (issue 15). Requests made while the reader is busy queue on the same process; it is closed once
 * nothing is pending (after the current turn of the event loop), so no git process outlives the burst.
 *
 * node:child_process, not execa: this is a long-lived pipe answered incrementally, which execa's
 * one-result-per-run API does not model; the reader passes no option execa would have changed
 * (no timeout, the parent's environment as execa's default extendEnv gives it, stderr ignored).
 * Anything unexpected (git missing, a crash, an unparsable reply) rejects, and git.ts falls back to
 * the two-process path, which reports the typed error. Content is never put into an error.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'

/** What the batch said about one object name. */
export type BatchObject = { readonly type: string; readonly content: Buffer } | 'missing'

interface Pending { readonly resolve: (o: BatchObject) => void; readonly reject: (e: Error) => void }
interface Reader {
    readonly child: ChildProcessByStdio<Writable, Readable, null>
    readonly queue: Pending[]
    buf: Buffer
    closed: boolean
}

const readers = new Map<string, Reader>()

const fail = (root: string, reader: Reader, why: string): void => {
    reader.closed = true
    if (readers.get(root) === reader) readers.delete(root)
    for (const p of reader.queue.splice(0)) p.reject(new Error(`git cat-file --batch: ${why}`))
    reader.child.stdin.destroy()
}

/** Answers every complete reply at the head of the buffer, in request order. */
const drain = (root: string, reader: Reader): void => {
    for (;;) {
        const head = reader.queue[0]
        if (head === undefined) return
        const eol = reader.buf.indexOf(10)
        if (eol === -1) return
        const line = reader.buf.subarray(0, eol).toString('latin1')
        if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
            reader.buf = reader.buf.subarray(eol + 1)
            reader.queue.shift()
            head.resolve('missing')
            continue
        }
        const m = /^[0-9a-f]{40,64} ([a-z]+) (\d+)$/.exec(line)
        if (!m) { fail(root, reader, 'unexpected reply'); return }
        const size = Number(m[2])
        // The content, then one LF.
        if (reader.buf.length < eol + 1 + size + 1) return
        const content = Buffer.from(reader.buf.subarray(eol + 1, eol + 1 + size))
        reader.buf = reader.buf.subarray(eol + 1 + size + 1)
        reader.queue.shift()
        head.resolve({ type: m[1] as string, content })
    }
}

const closeWhenIdle = (root: string, reader: Reader): void => {
    setImmediate(() => {
        if (reader.queue.length > 0 || reader.closed) return
        reader.closed = true
        if (readers.get(root) === reader) readers.delete(root)
        reader.child.stdin.end()
    })
}

const open = (root: string): Reader => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] })
    const reader: Reader = { child, queue: [], buf: Buffer.alloc(0), closed: false }
    child.on('error', () => fail(root, reader, 'could not run git'))
    child.stdin.on('error', () => fail(root, reader, 'pipe closed'))
    child.stdout.on('data', (chunk: Buffer) => {
        reader.buf = reader.buf.length === 0 ? chunk : Buffer.concat([reader.buf, chunk])
        drain(root, reader)
        if (reader.queue.length === 0) closeWhenIdle(root, reader)
    })
    child.on('close', () => { if (reader.queue.length > 0) fail(root, reader, 'git exited') })
    readers.set(root, reader)
    return reader
}

/**
 * Looks `spec` (`REF:PATH`, or `:PATH` for the index) up through the shared batch reader of `root`.
 * @throws Error when the batch cannot answer (callers fall back); never for a missing object.
 */
export const batchRead = (root: string, spec: string): Promise<BatchObject> => {
    // The batch reads one name a line: a name with a line break cannot be asked this way.
    if (/[\n\r]/.test(spec)) return Promise.reject(new Error('git cat-file --batch: name holds a line break'))
    let reader = readers.get(root)
    if (reader === undefined || reader.closed) reader = open(root)
    const current = reader
    return new Promise<BatchObject>((resolve, reject) => {
        current.queue.push({ resolve, reject })
        current.child.stdin.write(`${spec}\n`)
    })
}
