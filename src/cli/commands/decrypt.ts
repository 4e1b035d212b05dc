/**
 * `keyfleet decrypt <file>`: decrypt any SOPS file (dotenv, yaml, json, binary)
 * in process, MAC verified, and print it as `sops decrypt` would; or run the
 * sops binary with `--engine sops`.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { formatDecryptedBytes } from '../../sops/native/format.js'
import { storeForPath } from '../../sops/native/store-kind.js'
import type { StoreKind } from '../../sops/native/types.js'
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
    usage: 'decrypt <file> [--engine native|sops] [--output-type TYPE | --json] [--identity-file FILE] [--input-type TYPE]',
    positionals: [1, 1],
    help: `Decrypts a SOPS file of any store: dotenv, yaml, json or binary. The store follows
the file name like sops (.env, .yaml/.yml, .json, else binary), except that env.secrets
is dotenv; --input-type overrides it. The identity comes from --identity-file, else from
SOPS_AGE_KEY / SOPS_AGE_KEY_FILE. The native engine needs no sops binary and verifies
the MAC exactly as sops does; --engine sops runs the pinned sops instead.
The output is what \`sops decrypt --output-type TYPE\` prints (default: the input store):
dotenv, JSON and binary byte for byte; --json is --output-type json (nested, typed).
YAML output follows sops' yaml.v3 emitter; its bytes may differ from sops in the corners
listed in docs/native-decryption.md (the parsed values never differ). Use --engine sops
when you need sops' exact YAML bytes.
The plaintext goes to stdout: redirect it only where it may live. See docs/native-decryption.md.

Examples:
  keyfleet decrypt environments/dev/env.secrets --identity-file examples/demo-keys/dev.agekey
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet decrypt environments/dev/env.secrets --json`,
    options: {
        engine: { type: 'string', arg: 'ENGINE', description: 'native (default, in process) or sops (the sops binary)' },
        'output-type': { type: 'string', arg: 'TYPE', description: 'dotenv, yaml, json or binary, as sops --output-type (default: the input store)' },
        json: { type: 'boolean', description: 'the same as --output-type json: what `sops decrypt --output-type json` prints' },
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
        const outputType = values['output-type'] as string | undefined
        if (outputType !== undefined && !STORES.includes(outputType as StoreKind)) throw new KeyfleetError('USAGE', `--output-type must be one of ${STORES.join(', ')}`)
        if (outputType !== undefined && outputType !== 'json' && values.json === true) throw new KeyfleetError('USAGE', '--json means --output-type json; give only one of them')
        const store = (inputType as StoreKind | undefined) ?? storeForPath(path)
        const output: StoreKind = values.json === true ? 'json' : (outputType as StoreKind | undefined) ?? store
        const identityFile = values['identity-file'] as string | undefined
        if (engine === 'sops') {
            const options = sopsOptions(ctx, ctx.cwd, identityFrom(ctx, identityFile))
            // Loaded on this path only: execa is for `--engine sops`, not the in-process default.
            const { runSops } = await import('../../sops/run.js')
            ctx.stdout.write(await runSops({ operation: 'decrypt', file: fileArg, args: ['decrypt', '--input-type', store, '--output-type', output, path] }, options))
            return ExitCode.ok
        }
        const text = readText(path, 'file')
        const decrypted = await decryptNative(text, { store, identities: nativeIdentities(ctx, identityFile), file: fileArg })
        ctx.stdout.write(formatDecryptedBytes(decrypted, output))
        return ExitCode.ok
    },
}
