/**
 * `keyfleet decrypt <file>`: decrypt any SOPS file (dotenv, yaml, json, binary)
 * in process, MAC verified, and print it as `sops decrypt` would; or run the
 * sops binary with `--engine sops`.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { runSops } from '../../sops/index.js'
import { formatDecrypted, storeForPath, type StoreKind } from '../../sops/native/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { identityFrom, decryptNative, nativeIdentities, sopsOptions } from '../repo-context.js'

const STORES: readonly StoreKind[] = ['dotenv', 'yaml', 'json', 'binary']

const readText = (path: string, what: string): string => {
    try {
        return readFileSync(path, 'utf8')
    } catch {
        throw new KeyfleetError('FILE_NOT_READABLE', `cannot read ${what} ${path}; check the path and its permissions`, { file: path })
    }
}

export const command: Command = {
    name: 'decrypt',
    summary: 'Decrypt any SOPS file in process (MAC verified) and print it like `sops decrypt`',
    usage: 'decrypt <file> [--engine native|sops] [--json] [--identity-file FILE] [--input-type TYPE]',
    positionals: [1, 1],
    help: `Decrypts a SOPS file of any store: dotenv, yaml, json or binary. The store follows
the file name like sops (.env, .yaml/.yml, .json, else binary), except that env.secrets
is dotenv; --input-type overrides it. The identity comes from --identity-file, else from
SOPS_AGE_KEY / SOPS_AGE_KEY_FILE. The native engine needs no sops binary and verifies
the MAC exactly as sops does; --engine sops runs the pinned sops instead.
The plaintext goes to stdout: redirect it only where it may live. See docs/native-decryption.md.

Examples:
  keyfleet decrypt environments/dev/env.secrets --identity-file examples/demo-keys/dev.agekey
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet decrypt environments/dev/env.secrets --json`,
    options: {
        engine: { type: 'string', arg: 'ENGINE', description: 'native (default, in process) or sops (the sops binary)' },
        json: { type: 'boolean', description: 'print a flat JSON object of the top-level values instead of the store format' },
        'identity-file': { type: 'string', arg: 'FILE', description: 'age identity file (default: SOPS_AGE_KEY / SOPS_AGE_KEY_FILE)' },
        'input-type': { type: 'string', arg: 'TYPE', description: 'dotenv, yaml, json or binary (default: from the file name)' },
    },
    run: async ({ positionals, values }, ctx) => {
        const fileArg = positionals[0] as string
        const path = resolve(ctx.cwd, fileArg)
        const engine = (values.engine as string | undefined) ?? 'native'
        if (engine !== 'native' && engine !== 'sops') throw new KeyfleetError('USAGE', `--engine must be native or sops, not "${engine}"`)
        const inputType = values['input-type'] as string | undefined
        if (inputType !== undefined && !STORES.includes(inputType as StoreKind)) throw new KeyfleetError('USAGE', `--input-type must be one of ${STORES.join(', ')}`)
        const store = (inputType as StoreKind | undefined) ?? storeForPath(path)
        const identityFile = values['identity-file'] as string | undefined
        if (engine === 'sops') {
            const options = sopsOptions(ctx, ctx.cwd, identityFrom(ctx, identityFile))
            const out = await runSops({ operation: 'decrypt', file: fileArg, args: ['decrypt', '--input-type', store, '--output-type', store, path] }, options)
            if (values.json !== true) {
                ctx.stdout.write(out)
                return ExitCode.ok
            }
            // The same flat object as the native engine: top-level scalars as strings.
            let flat: [string, string][]
            if (store === 'dotenv') flat = dotenvPairs(out)
            else if (store === 'binary') flat = [['data', out]]
            else {
                const json = await runSops({ operation: 'decrypt', file: fileArg, args: ['decrypt', '--input-type', store, '--output-type', 'json', path] }, options)
                flat = Object.entries(JSON.parse(json) as Record<string, unknown>)
                    .filter(([, v]) => v !== null && typeof v !== 'object').map(([k, v]) => [k, String(v)])
            }
            ctx.stdout.write(`${JSON.stringify(Object.fromEntries(flat), null, 2)}\n`)
            return ExitCode.ok
        }
        const text = readText(path, 'file')
        const decrypted = await decryptNative(text, { store, identities: nativeIdentities(ctx, identityFile), file: fileArg })
        if (values.json === true) {
            const flat: Record<string, string> = {}
            for (const [name, value] of decrypted.toEnvMap()) Object.defineProperty(flat, name, { value, enumerable: true })
            ctx.stdout.write(`${JSON.stringify(flat, null, 2)}\n`)
        } else {
            ctx.stdout.write(formatDecrypted(decrypted))
        }
        return ExitCode.ok
    },
}

/** NAME=value lines of sops' dotenv output, `\n` escapes undone. */
const dotenvPairs = (text: string): [string, string][] => text.split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).replaceAll('\\n', '\n')])
