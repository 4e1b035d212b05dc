import { it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { encrypt, generate, nativeDecrypt, rng, sopsDecrypt } from './differential.js'
import { newKey } from './helpers.js'
it('probe', async () => {
    const k = await newKey(); const r = rng(Number(process.env.S ?? 9)); let n = 0
    writeFileSync('/tmp/f-exp/fkey', k.identity)
    for (let i = 0; i < 40; i++) {
        const c = generate(r, 'yaml'); const e = encrypt(c, [k.recipient]); if (!e) continue
        const a = sopsDecrypt(e, 'yaml', k.identity); const b = await nativeDecrypt(e, 'yaml', k.identity)
        if (a.ok && b.ok && !a.out.equals(b.out)) { writeFileSync(`/tmp/f-exp/d${n}.yaml`, e); writeFileSync(`/tmp/f-exp/d${n}.plain`, c.plain); writeFileSync(`/tmp/f-exp/d${n}.flags`, JSON.stringify(c.flags)); n++ }
    }
}, 120000)
