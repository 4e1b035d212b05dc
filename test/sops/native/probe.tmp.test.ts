import { it } from 'vitest'
import { encrypt, generate, nativeDecrypt, rng, sopsDecrypt } from './differential.js'
import { newKey } from './helpers.js'
it('probe', async () => {
    const k = await newKey(); const r = rng(Number(process.env.S ?? 9)); let same = 0, diff = 0
    for (let i = 0; i < 40; i++) {
        const c = generate(r, 'yaml'); const e = encrypt(c, [k.recipient]); if (!e) continue
        const a = sopsDecrypt(e, 'yaml', k.identity); const b = await nativeDecrypt(e, 'yaml', k.identity)
        if (a.ok && b.ok && a.out.equals(b.out)) { same++; continue }
        diff++
        console.log('=== sops\n' + (a.ok ? a.out.toString() : a.code) + '=== native\n' + (b.ok ? b.out.toString() : b.code))
    }
    console.log('same', same, 'diff', diff)
}, 120000)
