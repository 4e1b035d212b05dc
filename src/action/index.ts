/** The bundle's entry: runs the action once (see main.ts for the order of work). */
import { run } from './main.js'

await run()
