/**
 * The `sops.version` check sops runs before decrypting (cmd/sops/common
 * DetectKMSEncryptionContextBug → version.AIsNewerThanB → blang/semver v3.5.1
 * `Make`): a version that does not parse stops sops, so native refuses it too.
 */

const NUMBERS = /^[0-9]*$/
const ALPHANUM = /^[0-9A-Za-z-]*$/

const numeric = (part: string): boolean => NUMBERS.test(part) && !(part.length > 1 && part.startsWith('0')) && part !== '' && BigInt(part) < 2n ** 64n

const prerelease = (id: string): boolean => {
    if (id === '') return false
    if (NUMBERS.test(id)) return numeric(id)
    return ALPHANUM.test(id)
}

/** blang/semver v3.5.1 `Parse`. */
const semver = (s: string): boolean => {
    if (s === '') return false
    const parts = s.split('.')
    if (parts.length < 3) return false
    const [major = '', minor = ''] = parts
    const rest = parts.slice(2).join('.')
    if (!numeric(major) || !numeric(minor)) return false
    let preIndex = rest.indexOf('-')
    const buildIndex = rest.indexOf('+')
    let sub: number
    if (preIndex !== -1 && buildIndex === -1) sub = preIndex
    else if (preIndex === -1 && buildIndex !== -1) sub = buildIndex
    else if (preIndex === -1 && buildIndex === -1) sub = rest.length
    else if (buildIndex < preIndex) { sub = buildIndex; preIndex = -1 } else sub = preIndex
    if (!numeric(rest.slice(0, sub))) return false
    if (preIndex !== -1) {
        const end = buildIndex === -1 ? rest.length : buildIndex
        if (!rest.slice(preIndex + 1, end).split('.').every(prerelease)) return false
    }
    if (buildIndex !== -1) {
        if (!rest.slice(buildIndex + 1).split('.').every((id) => id !== '' && ALPHANUM.test(id))) return false
    }
    return true
}

/** Whether sops 3.13.2 accepts `version` from a file's metadata (`1.x` short-circuits; one leading `v` is dropped). */
export const sopsAcceptsVersion = (version: string): boolean => version.startsWith('1.') || semver(version.startsWith('v') ? version.slice(1) : version)
