/**
 * The sops binary, behind typed functions. Native (in-process) decryption
 * lives in ./native; everything that writes goes through here.
 */
export { PINNED_SOPS_VERSION, checkSops, type SopsBinary } from './binary.js'
export { SopsExit, sopsError, type SopsFailure } from './exit-codes.js'
export { runSops, type SopsOptions, type SopsIdentity, type SopsCall } from './run.js'
export { sopsDecrypt, sopsSet, sopsWriteValues, sopsCheckFile, sopsUnset, sopsEncryptNew, sopsUpdateKeys, sopsRotate, sopsEdit, parseDotenvOutput, type EditOutcome } from './commands.js'
export { assertCarriable, carriageProblem } from './verify.js'
export { writeSecretValues } from './write-file.js'
