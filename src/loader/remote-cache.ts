/**
 * The last good bundle on disk, so a host that restarts offline still starts.
 * It is the signed envelope as published: the keys inside stay age-encrypted
 * to the host, and it is verified again when read. Directory 0700, file 0600,
 * replaced atomically (temp file, fsync, rename).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { writeNewFileSync } from '../repo/atomic.js'

/** The cached envelope text, or undefined when there is none (or it cannot be read). */
export const readCache = (file: string): string | undefined => {
    try {
        return readFileSync(file, 'utf8')
    } catch {
        return undefined
    }
}

/** Replaces the cache atomically; false when it could not be written (the keys are served either way). */
export const writeCache = (file: string, text: string): boolean => {
    const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
    try {
        mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
        writeNewFileSync(temp, text, 0o600)
        renameSync(temp, file)
        return true
    } catch {
        rmSync(temp, { force: true })
        return false
    }
}
