/**
 * `keyfleet edit` sessions (issue 12 review gaps 1 and 4), against the real sops binary:
 * a stored literal backslash-n on a line the person left alone is kept exactly (sops's editor
 * text alone would turn it into a newline), and an edit refused by the removal guard is not
 * lost on a terminal: it can be edited again, saved anyway or discarded, with no plaintext
 * outside sops's private temp directory. Oracle: plain `sops decrypt --output-type json`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { runCli } from '../../src/cli/run.js'
import { filesUnder, findLeaks } from '../helpers/canary.js'
import { demoKey, keyfleet, makeDemoRepo } from '../helpers/cli.js'
import { sopsPath } from '../helpers/tools.js'

const DEV = 'environments/dev/env.secrets'

const plainJson = (repo: string): Record<string, string> => JSON.parse(execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'json', DEV], {
    cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), PATH: process.env.PATH },
})) as Record<string, string>

/** An editor script in a side directory; `body` is shell run with the sops temp file as $1. */
const script = (body: string): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'keyfleet-editor-')), 'editor.sh')
    writeFileSync(path, `#!/bin/sh\n${body}\n`)
    chmodSync(path, 0o755)
    return path
}

/** Sets a value with plain sops (a JSON string on stdin: stored exactly). */
const plainSet = (repo: string, name: string, value: string): void => {
    const r = spawnSync(sopsPath(), ['set', '--input-type', 'dotenv', '--output-type', 'dotenv', '--value-stdin', DEV, JSON.stringify([name])], {
        cwd: repo, input: JSON.stringify(value), env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), PATH: process.env.PATH },
    })
    expect(r.status, String(r.stderr)).toBe(0)
}

describe('a literal backslash-n on a line left alone', () => {
    const WIN = 'C:\\new\\logs'
    const JSON_ONE_LINE = JSON.stringify({ private_key: '-----BEGIN KEY-----\nabc\n-----END KEY-----\n', n: 1 })

    it('(the cause, measured on sops itself) plain sops decrypt → sops encrypt turns it into a newline', () => {
        const repo = makeDemoRepo()
        plainSet(repo, 'WIN_PATH', WIN)
        const text = execFileSync(sopsPath(), ['decrypt', '--input-type', 'dotenv', '--output-type', 'dotenv', DEV], {
            cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), PATH: process.env.PATH },
        })
        expect(text).toContain(`WIN_PATH=${WIN}\n`)
        const side = mkdtempSync(join(tmpdir(), 'keyfleet-plain-'))
        writeFileSync(join(side, 'plain.env'), text)
        const again = execFileSync(sopsPath(), ['encrypt', '--input-type', 'dotenv', '--output-type', 'json', '--filename-override', DEV, join(side, 'plain.env')], {
            cwd: repo, encoding: 'utf8', env: { PATH: process.env.PATH },
        })
        writeFileSync(join(side, 'again.json'), again)
        const back = JSON.parse(execFileSync(sopsPath(), ['decrypt', '--input-type', 'json', '--output-type', 'json', join(side, 'again.json')], {
            cwd: repo, encoding: 'utf8', env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'dev'), PATH: process.env.PATH },
        })) as Record<string, string>
        expect(back.WIN_PATH).toBe(`C:\new\\logs`)
    })

    it('is kept exactly while the edit of another line is saved (sops decrypt gives both back)', async () => {
        const repo = makeDemoRepo()
        plainSet(repo, 'WIN_PATH', WIN)
        plainSet(repo, 'GCP_SA_JSON', JSON_ONE_LINE)
        const run = await keyfleet(['edit', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: script('echo OTHER=1 >> "$1"') } })
        expect(run.stderr).not.toContain('SOPS_WRITE_MISMATCH')
        expect(run.code, run.stderr).toBe(0)
        expect(run.stderr).toContain('kept WIN_PATH, GCP_SA_JSON exactly')
        expect(run.stderr).toContain('literal backslash-n')
        const plain = plainJson(repo)
        expect(plain.WIN_PATH).toBe(WIN)
        expect(plain.GCP_SA_JSON).toBe(JSON_ONE_LINE)
        expect(plain.OTHER).toBe('1')
    })

    it('an edited line is the person\'s: \\n in sops\'s editor is a newline, and keyfleet says so', async () => {
        const repo = makeDemoRepo()
        plainSet(repo, 'WIN_PATH', WIN)
        const run = await keyfleet(['edit', 'dev'], {
            cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: script('sed -i "s/^WIN_PATH=.*/WIN_PATH=D:\\\\\\\\new/" "$1"') },
        })
        expect(run.code, run.stderr).toBe(0)
        expect(plainJson(repo).WIN_PATH).toBe('D:\new')
        expect(run.stderr).toContain('note: WIN_PATH now span')
    })
})

/** Runs keyfleet in-process with stdin marked as a terminal, answering the prompts with `answers`. */
const onTerminal = async (argv: string[], cwd: string, env: Record<string, string>, answers: string): Promise<{ code: number; stderr: string; stdout: string }> => {
    const stdin = Object.assign(Readable.from([Buffer.from(answers)]), { isTTY: true })
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    let out = ''
    let err = ''
    stdout.on('data', (c: Buffer) => { out += c.toString() })
    stderr.on('data', (c: Buffer) => { err += c.toString() })
    const code = await runCli(argv, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, KEYFLEET_SOPS: sopsPath(), ...env }, stdin, stdout, stderr })
    return { code, stdout: out, stderr: err }
}

describe('an edit refused by the removal guard', () => {
    const CANARY = 'sk-ant-api03-EDITKEPT0123456789abcdefghijklmnop'
    // Round 1 drops a key agents read and adds one; round 2 (edit again) puts it back.
    const twoRounds = (): string => {
        const counter = join(mkdtempSync(join(tmpdir(), 'keyfleet-rounds-')), 'n')
        return script(`if [ -e "${counter}" ]; then echo "ANTHROPIC_API_KEY=back-again" >> "$1"; else touch "${counter}"; grep -v "^ANTHROPIC_API_KEY=" "$1" > "$1.new"; echo "ADDED_IN_EDIT=${CANARY}" >> "$1.new"; cat "$1.new" > "$1"; rm "$1.new"; fi`)
    }

    it('on a terminal, [e]dit again reopens the edit as it was (nothing lost) and saves once the key is back', async () => {
        const repo = makeDemoRepo()
        const r = await onTerminal(['edit', 'dev'], repo, { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: twoRounds() }, 'e\n')
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain('batch-summarizer')
        expect(r.stderr).toContain('[e]dit again')
        const plain = plainJson(repo)
        expect(plain.ADDED_IN_EDIT).toBe(CANARY)
        expect(plain.ANTHROPIC_API_KEY).toBe('back-again')
        expect(findLeaks(CANARY, { stdout: r.stdout, stderr: r.stderr, ...filesUnder(repo, (p) => p.endsWith(DEV) || p.includes('/.git')) })).toEqual([])
    })

    it('on a terminal, [s]ave keeps the edit with the removal and names the agents', async () => {
        const repo = makeDemoRepo()
        const r = await onTerminal(['edit', 'dev'], repo, { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: twoRounds() }, 's\n')
        expect(r.code, r.stderr).toBe(0)
        expect(r.stderr).toContain('warning: removed ANTHROPIC_API_KEY')
        const plain = plainJson(repo)
        expect(plain.ADDED_IN_EDIT).toBe(CANARY)
        expect(plain.ANTHROPIC_API_KEY).toBeUndefined()
    })

    it('on a terminal, [d]iscard or end of input changes nothing; without a terminal the message says how to save it', async () => {
        const repo = makeDemoRepo()
        const before = readFileSync(join(repo, DEV))
        for (const answers of ['d\n', '']) {
            const r = await onTerminal(['edit', 'dev'], repo, { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: twoRounds() }, answers)
            expect(r.code).toBe(2)
            expect(r.stderr).toContain('REMOVE_GUARDED')
            expect(r.stderr).toContain('discarded')
            expect(readFileSync(join(repo, DEV))).toEqual(before)
        }
        const piped = await keyfleet(['edit', 'dev'], { cwd: repo, env: { SOPS_AGE_KEY_FILE: demoKey(repo, 'admin'), EDITOR: twoRounds() } })
        expect(piped.code).toBe(2)
        expect(piped.stderr).toContain('`keyfleet edit dev --force`')
        expect(readFileSync(join(repo, DEV))).toEqual(before)
    })
})
