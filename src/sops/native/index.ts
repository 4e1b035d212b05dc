/**
 * Native (in-process) SOPS decryption: parse any store without keys, unwrap
 * the data key with age identities, decrypt and verify the MAC exactly as
 * sops does. Never prints, never reads process.env. See docs/native-decryption.md.
 */
export type { AgeStanza, DecryptedEntry, DecryptedFile, ParsedSopsFile, SelectionRule, SopsLeaf, SopsMetadata, StoreKind } from './types.js'
export { sopsStoreForPath, storeForPath } from './store-kind.js'
export { parseSopsFile } from './parse.js'
export { decryptSopsFile } from './decrypt.js'
export { identitiesFromEnv, identitiesFromText, lookupIdentities, parseIdentityText, userConfigDir, type IdentityLookup, type IdentityLookupIo, type SourceOutcome } from './identities.js'
export { formatDecrypted, formatDecryptedBytes, type OutputStore } from './format.js'
export type { NativeErrorCode } from './errors.js'
