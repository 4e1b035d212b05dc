/**
 * The SSH wire encoding (RFC 4251 §5): `uint32` and length-prefixed `string`.
 * Shared by the OpenSSH key formats and the sshsig signature blob.
 */
import { KeyfleetError } from '../errors.js'

/** Encodes a big-endian uint32. */
export const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n >>> 0)
    return b
}

/** Encodes an SSH `string`: uint32 length, then the bytes. */
export const sshString = (data: Uint8Array | string): Buffer => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)
    return Buffer.concat([u32(bytes.length), bytes])
}

/** Reads SSH wire fields in order; every overrun is a typed error, never an out-of-bounds read. */
export class WireReader {
    #offset = 0
    constructor(private readonly bytes: Buffer, private readonly what: string, private readonly code: string) {}

    /** Fails with this reader's code and a message naming what was being read. */
    fail(detail: string): never {
        throw new KeyfleetError(this.code, `${this.what} is malformed (${detail})`)
    }

    /** Reads `n` raw bytes. */
    raw(n: number): Buffer {
        if (n < 0 || this.#offset + n > this.bytes.length) this.fail('truncated')
        const out = this.bytes.subarray(this.#offset, this.#offset + n)
        this.#offset += n
        return out
    }

    /** Reads a uint32. */
    u32(): number {
        return this.raw(4).readUInt32BE(0)
    }

    /** Reads a `string` as bytes. */
    bytesField(): Buffer {
        return this.raw(this.u32())
    }

    /** Reads a `string` as UTF-8 text. */
    text(): string {
        return this.bytesField().toString('utf8')
    }

    /** True when every byte was consumed. */
    get done(): boolean {
        return this.#offset === this.bytes.length
    }

    /** The bytes not read yet. */
    rest(): Buffer {
        return this.bytes.subarray(this.#offset)
    }
}

/** PEM-style armor: BEGIN line, base64 wrapped at 70 columns (as OpenSSH writes it), END line. */
export const armorBlock = (label: string, data: Uint8Array): string => {
    const b64 = Buffer.from(data).toString('base64')
    const lines: string[] = []
    for (let i = 0; i < b64.length; i += 70) lines.push(b64.slice(i, i + 70))
    return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`
}

/** Decodes the first `label` armor block of `text`, or undefined when there is none. Strict base64. */
export const unarmorBlock = (text: string, label: string): Buffer | undefined => {
    const begin = `-----BEGIN ${label}-----`
    const end = `-----END ${label}-----`
    const start = text.indexOf(begin)
    if (start < 0) return undefined
    const stop = text.indexOf(end, start)
    if (stop < 0) return undefined
    const body = text.slice(start + begin.length, stop).replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) return undefined
    return Buffer.from(body, 'base64')
}
