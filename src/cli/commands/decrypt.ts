/**
 * `keyfleet decrypt <file>`: decrypt any SOPS file (dotenv, yaml, json, binary)
 * in process, MAC verified, and print it as `sops decrypt` would; or run the
 * sops binary with `--engine sops`.
 */
import { readFileSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { KeyfleetError } from '../../errors.js'
import { formatDecryptedBytes } from '../../sops/native/format.js'
import { sopsStoreForPath } from '../../sops/native/store-kind.js'
import type { DecryptedFile, StoreKind } from '../../sops/native/types.js'
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
    help: `Decrypts a SOPS file of any store: dotenv, yaml, json or binary, with the flags and
defaults of \`sops decrypt\`. The input store follows the file name like sops (.env,
.yaml/.yml, .json, else binary), and so does the output store: --input-type alone does
not change the output type. env.secrets is binary to sops too, so pass
--input-type dotenv --output-type dotenv for it (keyfleet's other commands read it as
dotenv on their own). The identity comes from --identity-file, else from SOPS_AGE_KEY /
SOPS_AGE_KEY_FILE. The native engine needs no sops binary and verifies the MAC exactly
as sops does; --engine sops runs the pinned sops instead.
The output is byte for byte what \`sops decrypt\` prints with the same flags; --json is
--output-type json (nested, typed). Where sops would lose a value (a YAML value that
starts with a tab and spans lines prints as null) keyfleet refuses instead; the known
differences are listed in docs/native-decryption.md.
The plaintext goes to stdout: redirect it only where it may live. See docs/native-decryption.md.

Examples:
  keyfleet decrypt environments/dev/env.secrets --input-type dotenv --output-type dotenv --identity-file examples/demo-keys/dev.agekey
  SOPS_AGE_KEY_FILE=examples/demo-keys/dev.agekey keyfleet decrypt environments/dev/env.secrets --input-type dotenv --json`,
    options: {
        engine: { type: 'string', arg: 'ENGINE', description: 'native (default, in process) or sops (the sops binary)' },
        'output-type': { type: 'string', arg: 'TYPE', description: 'dotenv, yaml, json or binary, as sops --output-type (default: from the file name, as sops)' },
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
        // sops: each store comes from its own flag, else from the file name (never one from the other).
        const store = (inputType as StoreKind | undefined) ?? sopsStoreForPath(path)
        const output: StoreKind = values.json === true ? 'json' : (outputType as StoreKind | undefined) ?? sopsStoreForPath(path)
        const identityFile = values['identity-file'] as string | undefined
        if (engine === 'sops') {
            const options = sopsOptions(ctx, ctx.cwd, identityFrom(ctx, identityFile))
            const args = ['decrypt', ...(inputType === undefined ? [] : ['--input-type', store]), ...(values.json === true || outputType !== undefined ? ['--output-type', output] : []), path]
            // Loaded on this path only: execa is for `--engine sops`, not the in-process default.
            const { runSops } = await import('../../sops/run.js')
            ctx.stdout.write(await runSops({ operation: 'decrypt', file: fileArg, args }, options))
            return ExitCode.ok
        }
        // sops reads *.ini with its INI store, which native decryption does not have.
        if ((inputType === undefined || (outputType === undefined && values.json !== true)) && path.endsWith('.ini')) {
            throw new KeyfleetError('USAGE', `${fileArg}: sops reads .ini files with its INI store, which native decryption does not support; pass --input-type and --output-type, or use --engine sops`)
        }
        const text = readText(path, 'file')
        let decrypted: DecryptedFile
        try {
            decrypted = await decryptNative(text, { store, identities: nativeIdentities(ctx, identityFile), file: fileArg })
        } catch (error) {
            if (inputType !== undefined || basename(path) !== 'env.secrets' || !(error instanceof KeyfleetError) || (error.code !== 'NATIVE_MALFORMED' && error.code !== 'NATIVE_NOT_SOPS')) throw error
            throw new KeyfleetError(error.code, `${error.message}. Like sops, keyfleet decrypt reads env.secrets as a binary (JSON) file; pass --input-type dotenv --output-type dotenv`, { file: fileArg })
        }
        ctx.stdout.write(formatDecryptedBytes(decrypted, output))
        return ExitCode.ok
    },
}
