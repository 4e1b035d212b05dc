/**
 * `render --out` never writes or deletes through a symbolic link planted in the
 * output directory, and takes only a private directory (issue 13.10).
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RENDER_MANIFEST, writeRenderOutput, type RenderOutput, type RenderedFile } from '../../src/render/index.js'

const registry = { keyfleet: 'registry/v1', environment: 'dev', agents: [], keys: [] } as const
const output = (files: RenderedFile[]): RenderOutput => ({ environment: 'dev', files, generation: {}, registry })
const secret = (path: string): RenderedFile => ({ path, content: `SECRET of ${path}\n`, mode: 0o600, sensitive: true })

/** A private output dir and, beside it, an "outside" dir holding a file that must survive untouched. */
const setup = (): { dir: string; outside: string; victim: string } => {
    const base = mkdtempSync(join(tmpdir(), 'keyfleet-links-'))
    const dir = join(base, 'out')
    const outside = join(base, 'outside')
    mkdirSync(dir, { mode: 0o700 })
    mkdirSync(outside)
    const victim = join(outside, 'a.yaml')
    writeFileSync(victim, 'unrelated\n')
    return { dir, outside, victim }
}

describe('writeRenderOutput and links', () => {
    it('refuses a link planted where a Secret goes: the target is not written and the link stays', async () => {
        const { dir, victim } = setup()
        mkdirSync(join(dir, 'ns', 'secrets'), { recursive: true })
        symlinkSync(victim, join(dir, 'ns', 'secrets', 'a.yaml'))
        await expect(writeRenderOutput(output([secret('x.yaml'), secret('ns/secrets/a.yaml')]), dir)).rejects.toMatchObject({ code: 'RENDER_SYMLINK' })
        expect(readFileSync(victim, 'utf8')).toBe('unrelated\n')
        expect(lstatSync(join(dir, 'ns', 'secrets', 'a.yaml')).isSymbolicLink()).toBe(true)
        // Checked before anything is written: the first file is not there either.
        expect(existsSync(join(dir, 'x.yaml'))).toBe(false)
    })

    it('refuses a directory link: nothing lands in the directory it points to', async () => {
        const { dir, outside } = setup()
        symlinkSync(outside, join(dir, 'ns'))
        await expect(writeRenderOutput(output([secret('ns/secrets/b.yaml')]), dir)).rejects.toMatchObject({ code: 'RENDER_SYMLINK' })
        expect(readdirSync(outside)).toEqual(['a.yaml'])
    })

    it('a planted manifest plus link does not delete an unrelated file', async () => {
        const { dir, outside, victim } = setup()
        symlinkSync(outside, join(dir, 'gone'))
        writeFileSync(join(dir, RENDER_MANIFEST), JSON.stringify({ keyfleet: 'render/v1', environment: 'dev', files: ['gone/a.yaml'] }))
        await expect(writeRenderOutput(output([secret('ns/secrets/c.yaml')]), dir)).rejects.toMatchObject({ code: 'RENDER_SYMLINK' })
        expect(readFileSync(victim, 'utf8')).toBe('unrelated\n')
    })

    it('refuses a manifest that is itself a link (not read, not replaced)', async () => {
        const { dir, victim } = setup()
        symlinkSync(victim, join(dir, RENDER_MANIFEST))
        await expect(writeRenderOutput(output([secret('d.yaml')]), dir)).rejects.toMatchObject({ code: 'RENDER_SYMLINK' })
        expect(readFileSync(victim, 'utf8')).toBe('unrelated\n')
        expect(existsSync(join(dir, 'd.yaml'))).toBe(false)
    })

    it('refuses an output directory that is a link, or open to group/others, saying how to fix it', async () => {
        const { dir, outside } = setup()
        const link = join(dir, '..', 'link')
        symlinkSync(dir, link)
        await expect(writeRenderOutput(output([secret('e.yaml')]), link)).rejects.toMatchObject({ code: 'RENDER_OUT_DIR_UNSAFE' })
        chmodSync(outside, 0o755)
        await expect(writeRenderOutput(output([secret('e.yaml')]), outside)).rejects.toThrow(/chmod 700/)
        expect(readdirSync(outside)).toEqual(['a.yaml'])
        chmodSync(outside, 0o700)
        await writeRenderOutput(output([secret('e.yaml')]), outside)
        expect(readFileSync(join(outside, 'e.yaml'), 'utf8')).toBe('SECRET of e.yaml\n')
    })

    it('creates a missing output directory 0700', async () => {
        const { dir } = setup()
        const fresh = join(dir, 'new', 'dev')
        await writeRenderOutput(output([secret('f.yaml')]), fresh)
        expect(lstatSync(fresh).mode & 0o777).toBe(0o700)
    })

    it.runIf(process.getuid?.() === 0)('refuses a directory owned by someone else (needs root to chown)', async () => {
        const { outside } = setup()
        chmodSync(outside, 0o700)
        chownSync(outside, 4242, 4242)
        await expect(writeRenderOutput(output([secret('g.yaml')]), outside)).rejects.toThrow(/owned by uid 4242/)
    })
})
