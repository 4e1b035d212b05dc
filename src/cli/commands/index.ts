/** Every keyfleet subcommand, registered here once. */
import type { Command } from '../command.js'
import { command as validate } from './validate.js'
import { command as diff } from './diff.js'
import { command as scan } from './scan.js'
import { command as hookInstall } from './hook.js'
import { command as set } from './set.js'
import { command as unset } from './unset.js'
import { command as importEnv } from './import.js'
import { command as edit } from './edit.js'
import { command as keygen } from './keygen.js'
import { command as init } from './init.js'
import { command as render } from './render.js'
import { command as registry } from './registry.js'
import { command as ls } from './ls.js'
import { command as get } from './get.js'
import { command as decrypt } from './decrypt.js'
import { command as check } from './check.js'
import { command as propose } from './propose.js'
import { command as proposals } from './proposals.js'
import { command as recipients } from './recipients.js'
import { command as rotate } from './rotate.js'
import { command as agent } from './agent.js'
import { command as run } from './run.js'

/** Commands by the job they serve, as `keyfleet --help` lists them. */
export const commandGroups: readonly (readonly [title: string, commands: readonly Command[]])[] = [
    ['Change keys', [set, unset, importEnv, edit, get, ls, decrypt, run]],
    ['Check a change (PR)', [validate, diff, scan, hookInstall, check]],
    ['Key lifecycle', [propose, proposals, recipients, rotate, agent]],
    ['Deploy', [render, registry]],
    ['Set up', [init, keygen]],
]

/** Every subcommand. */
export const commands: readonly Command[] = commandGroups.flatMap(([, group]) => group)
