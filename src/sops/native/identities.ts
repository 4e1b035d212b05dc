/**
 * sops' age identity conventions as a pure function: core code never reads
 * process.env, so the caller passes the environment and a file reader.
 */

const IDENTITY = /^AGE-(?:SECRET-KEY-(?:PQ-)?1|PLUGIN-)[0-9A-Z]+$/

/**
 * Parses identities from keys.txt text: one per line, `#` comments and blank lines skipped.
 * Lines that are not identities are ignored (keys.txt files carry `# public key:` comments).
 */
export const identitiesFromText = (text: string): string[] =>
    text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#') && IDENTITY.test(line))

/**
 * Collects identities like sops does: `SOPS_AGE_KEY` (whitespace/newline separated, `#` lines skipped)
 * and then the keys.txt file named by `SOPS_AGE_KEY_FILE`, all combined, duplicates removed.
 * @param readFile - reads a file as UTF-8; its errors propagate (the caller maps them).
 */
export const identitiesFromEnv = (env: Readonly<Record<string, string | undefined>>, readFile: (path: string) => string): string[] => {
    const found: string[] = []
    const inline = env.SOPS_AGE_KEY
    if (inline) {
        for (const line of inline.split(/\r?\n/)) {
            if (line.trim().startsWith('#')) continue
            found.push(...line.split(/\s+/).filter((word) => IDENTITY.test(word)))
        }
    }
    const path = env.SOPS_AGE_KEY_FILE
    if (path) found.push(...identitiesFromText(readFile(path)))
    return [...new Set(found)]
}
