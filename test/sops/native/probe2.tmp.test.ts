import { it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { encrypt, generate, nativeDecrypt, rng, sopsDecrypt } from './differential.js'
import { newKey } from './helpers.js'
it('probe', async () => {
    const k = await newKey(); const r = rng(Number(process.env.S ?? 9)); let n = 0
    for (let i = 0; i < 80; i++) {
        const c = generate(r, 'yaml'); const e = encrypt(c, [k.recipient]); if (!e) continue
        const b = await nativeDecrypt(e, 'yaml', k.identity)
        if (!b.ok) { writeFileSync(`/tmp/f-exp/fail${n}.yaml`, e); writeFileSync(`/tmp/f-exp/fail${n}.plain.yaml`, c.plain); writeFileSync('/tmp/f-exp/fkey', k.identity); console.log(n, b.code, c.flags); n++ }
    }
}, 120000)
