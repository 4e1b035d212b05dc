/**
 * `keyfleet init` and `env add` create each new environment's bundle-signing
 * key: the private key (0600, outside the repository) is one `ssh-keygen`
 * reads, and the committed signing.pub is its public key (ssh-keygen derives it).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parsePublicKey } from '../../src/sign/index.js'
import { git, keyfleet } from '../helpers/cli.js'

const tmp = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix))

describe('signing keys from init and env add', () => {
    it('writes <env>.signing-key (0600) and environments/<env>/signing.pub that ssh-keygen agrees on', async () => {
        const repo = tmp('kf-signkey-')
        git(repo, 'init', '-q', '-b', 'main')
        const keys = tmp('kf-signkey-keys-')
        const init = await keyfleet(['init', '--env', 'dev', '--env', 'prod', '--keys-dir', keys], { cwd: repo })
        expect(init.code).toBe(0)
        const added = await keyfleet(['env', 'add', 'qa', '--keys-dir', keys], { cwd: repo })
        expect(added.code).toBe(0)
        for (const env of ['dev', 'prod', 'qa']) {
            const priv = join(keys, `${env}.signing-key`)
            expect(statSync(priv).mode & 0o777).toBe(0o600)
            const derived = execFileSync('/usr/bin/ssh-keygen', ['-y', '-f', priv], { encoding: 'utf8' })
            const committed = readFileSync(join(repo, 'environments', env, 'signing.pub'), 'utf8')
            expect(parsePublicKey(derived).raw.equals(parsePublicKey(committed).raw)).toBe(true)
            expect(committed).toContain(`keyfleet-signing:${env}`)
            expect(init.stdout + init.stderr + added.stdout + added.stderr).not.toContain(readFileSync(priv, 'utf8').split('\n')[1] as string)
        }
        const rm = await keyfleet(['env', 'rm', 'qa'], { cwd: repo })
        expect(rm.code).toBe(0)
        expect(existsSync(join(repo, 'environments', 'qa'))).toBe(false)
    })
})
