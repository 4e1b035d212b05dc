import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { changeViaTempCopy, removeStaleTemps, tempPathFor, writeFileAtomic, writeFileAtomicChecked } from '../../src/repo/atomic.js'

const dir = mkdtempSync(join(tmpdir(), 'kf-atomic-'))
// This process's scope (host + pid namespace), as the temp names carry it.
const SCOPE = /\.kf-([0-9a-f]{8})-/.exec(tempPathFor(join(dir, 'x')))?.[1] as string
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

/** A pid that existed and is gone: a child that has exited and been reaped. */
const deadPid = async (): Promise<number> => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
    await new Promise((resolve) => child.on('exit', resolve))
    return child.pid as number
}

describe('atomic writes clean up after a writer that was killed', () => {
    it('a temp file left by a dead writer is removed by the next write of the same target', async () => {
        const target = join(dir, 'env.secrets')
        writeFileSync(target, 'old\n')
        const stray = join(dir, `.env.secrets.kf-${SCOPE}-${await deadPid()}-0123456789ab.tmp`)
        writeFileSync(stray, 'ciphertext left by a SIGKILL')
        writeFileAtomic(target, 'new\n')
        expect(readFileSync(target, 'utf8')).toBe('new\n')
        expect(existsSync(stray)).toBe(false)
        expect(readdirSync(dir).filter((n) => n.includes('.kf-'))).toEqual([])
    })

    it('each path through the temp protocol cleans up first (checked write, temp copy)', async () => {
        const target = join(dir, 'deployment.yaml')
        writeFileSync(target, 'a: 1\n')
        for (const write of [
            (): Promise<void> => writeFileAtomicChecked(target, 'a: 2\n', 0o600, () => Promise.resolve()),
            (): Promise<void> => changeViaTempCopy(target, (temp) => { writeFileSync(temp, 'a: 3\n'); return Promise.resolve() }),
        ]) {
            const stray = join(dir, `.deployment.yaml.kf-${SCOPE}-${await deadPid()}-abcdefabcdef.tmp`)
            writeFileSync(stray, 'x')
            await write()
            expect(existsSync(stray)).toBe(false)
        }
        expect(readFileSync(target, 'utf8')).toBe('a: 3\n')
        expect(readdirSync(dir).filter((n) => n.startsWith('.deployment.yaml.'))).toEqual([])
    })

    it('never touches a live writer\'s temp, another scope\'s, another file\'s, or a name that only looks similar', async () => {
        const target = join(dir, 'other.secrets')
        const live = join(dir, `.other.secrets.kf-${SCOPE}-${process.ppid}-0123456789ab.tmp`)
        const mine = tempPathFor(target)
        // A container and its host share a bind mount: that writer's pid means nothing in this pid namespace.
        const otherScope = join(dir, `.other.secrets.kf-${SCOPE === '00000000' ? '11111111' : '00000000'}-${await deadPid()}-0123456789ab.tmp`)
        const foreign = join(dir, `.unrelated.kf-${SCOPE}-1-0123456789ab.tmp`)
        const odd = join(dir, '.other.secrets.kf-notapid.tmp')
        const legacy = join(dir, `.other.secrets.kf-${await deadPid()}-0123456789ab.tmp`)
        for (const p of [live, mine, otherScope, foreign, odd, legacy]) writeFileSync(p, 'x')
        expect(removeStaleTemps(target)).toEqual([])
        for (const p of [live, mine, otherScope, foreign, odd, legacy]) expect(existsSync(p), p).toBe(true)
    })

    it('the temp name carries this process\'s scope and pid', () => {
        expect(tempPathFor(join(dir, 'f'))).toMatch(new RegExp(`/\\.f\\.kf-${SCOPE}-${process.pid}-[0-9a-f]{12}\\.tmp$`))
    })

    it('a temp removed under a write gives a typed error and leaves the target as it was', async () => {
        const target = join(dir, 'vanish.yaml')
        writeFileSync(target, 'a: 1\n')
        await expect(changeViaTempCopy(target, (temp) => { rmSync(temp); return Promise.resolve() })).rejects.toMatchObject({ code: 'WRITE_TEMP_VANISHED', file: target })
        expect(readFileSync(target, 'utf8')).toBe('a: 1\n')
    })
})
