/** age identities, recipients and sealed payloads (on top of age-encryption). */
export { generateIdentity, recipientOf, isIdentity, parseIdentityFile, type GeneratedIdentity } from './identity.js'
export { isRecipient, assertRecipient, recipientKind, shortRecipient } from './recipient.js'
export { seal, open, looksLikeAge } from './seal.js'
