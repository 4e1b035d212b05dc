/** Every keyfleet subcommand, in the order `keyfleet --help` lists them. */
import type { Command } from '../command.js'

export const commands: readonly Command[] = [
]
