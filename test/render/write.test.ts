import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RENDER_MANIFEST, writeRenderOutput, type RenderOutput, type RenderedFile } from '../../src/render/index.js'

const registry = { keyfleet: 'registry/v1', environment: 'dev', agents: [], keys: [] } as const
const output = (files: RenderedFile[], environment = 'dev'): RenderOutput => ({ environment, files, generation: {}, registry: { ...registry, environment } })
const file = (path: string, sensitive = false): RenderedFile => ({ path, content: `content of ${path}\n`, mode: sensitive ? 0o600 : 0o644, sensitive })
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8)
const tree = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile()).sort()

describe('writeRenderOutput', () => {
    it('creates the directory 0700 and each file with its mode (0600 for secrets)', async () => {
        const dir = join(mkdtempSync(join(tmpdir(), 'keyfleet-write-')), 'out')
        await writeRenderOutput(output([file('ns/secrets/a.yaml', true), file('ns/patches/a.yaml'), file('bundles/b.keys.age')]), dir)
        expect(mode(dir)).toBe('700')
        expect(mode(join(dir, 'ns', 'secrets'))).toBe('700')
        expect(mode(join(dir, 'ns/secrets/a.yaml'))).toBe('600')
        expect(mode(join(dir, 'ns/patches/a.yaml'))).toBe('644')
        expect(readFileSync(join(dir, 'bundles/b.keys.age'), 'utf8')).toBe('content of bundles/b.keys.age\n')
        expect(tree(dir)).toEqual([RENDER_MANIFEST, 'bundles/b.keys.age', 'ns/patches/a.yaml', 'ns/secrets/a.yaml'])
    })

    it('removes the files an earlier render of the environment wrote and this one does not, and leaves other files alone', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-write-'))
        await writeRenderOutput(output([file('old-ns/secrets/gone.yaml', true), file('ns/secrets/a.yaml', true), file('bundles/x.keys.age')]), dir)
        writeFileSync(join(dir, 'README.txt'), 'mine')
        await writeRenderOutput(output([file('ns/secrets/a.yaml', true), file('ns/secrets/b.yaml', true)]), dir)
        expect(tree(dir)).toEqual([RENDER_MANIFEST, 'README.txt', 'ns/secrets/a.yaml', 'ns/secrets/b.yaml'])
        expect(existsSync(join(dir, 'old-ns'))).toBe(false)
        expect(existsSync(join(dir, 'bundles'))).toBe(false)
    })

    it('refuses a directory that holds the render of another environment, writing nothing', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-write-'))
        await writeRenderOutput(output([file('a.yaml')], 'dev'), dir)
        await expect(writeRenderOutput(output([file('b.yaml')], 'prod'), dir)).rejects.toMatchObject({ code: 'RENDER_OUT_DIR_IN_USE' })
        expect(tree(dir)).toEqual([RENDER_MANIFEST, 'a.yaml'])
    })

    it('leaves no temp file behind when a write fails', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-write-'))
        mkdirSync(join(dir, 'b.yaml', 'in-the-way'), { recursive: true })
        await expect(writeRenderOutput(output([file('a.yaml', true), file('b.yaml', true)]), dir)).rejects.toMatchObject({ code: 'RENDER_WRITE_FAILED' })
        expect(tree(dir).filter((p) => p.includes('keyfleet-tmp'))).toEqual([])
    })

    it('refuses paths that would leave the directory', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'keyfleet-write-'))
        for (const path of ['../x.yaml', '/etc/x', 'a/../../x', '.keyfleet-render.json']) {
            await expect(writeRenderOutput(output([file(path)]), dir)).rejects.toMatchObject({ code: 'RENDER_BAD_PATH' })
        }
        expect(readdirSync(dir)).toEqual([])
    })
})
