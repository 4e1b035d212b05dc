/**
 * Regions through the PR check and the change report (issue 18), on a real
 * repository whose env.secrets the real sops writes: KF115 for a regional
 * agent without its variant (unless `fallback: global`), KF124 for a
 * regional base URL off the allowed origins, and a change of a variant
 * affects only that region's agents, shown with their region.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changeReport, changeReportMarkdown, changeReportText, validateRepository } from '../../src/validate/index.js'
import { fakeKey, makeFixture } from '../validate/fixture.js'

type F = Awaited<ReturnType<typeof makeFixture>>
let f: F
const deployment = (extra = '', urls = ''): string => `environment: dev
regions:
  eu: ${urls === '' ? '{}' : `\n    base_urls:\n      openai: ${urls}`}
  us: {}
${extra}agents:
  - name: support-eu
    cloud: aws
    target: kubernetes
    namespace: agents-eu
    region: eu
    keys: [openai]
  - name: support-us
    cloud: aws
    target: kubernetes
    namespace: agents-us
    region: us
    keys: [openai]
  - name: support-global
    cloud: gcp
    target: kubernetes
    namespace: agents
    keys: [openai, claude]
`
const dotenv = ['--input-type', 'dotenv', '--output-type', 'dotenv']

beforeAll(async () => {
    f = await makeFixture()
    f.write('environments/dev/deployment.yaml', deployment())
    f.set('dev', 'OPENAI_API_KEY__EU', fakeKey.openai())
    f.set('dev', 'OPENAI_API_KEY__US', fakeKey.openai())
    f.commit('dev: regions eu and us')
})
afterAll(() => f.cleanup())

const devErrors = async (allowedOrigins: string[] = []): Promise<string[]> =>
    (await validateRepository({ root: f.root, environments: ['dev'], allowedOrigins }))
        .filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.message}`)

describe('regions in validate and the change report', () => {
    it('accepts variants that exist; KF115 for a region without its variant unless fallback: global', async () => {
        expect(await devErrors()).toEqual([])
        f.sops(['unset', ...dotenv, 'environments/dev/env.secrets', '["OPENAI_API_KEY__US"]'])
        const errors = await devErrors()
        expect(errors).toHaveLength(1)
        expect(errors[0]).toMatch(/^KF115 agent support-us runs in region us and reads OPENAI_API_KEY, but .* has no OPENAI_API_KEY__US/)
        f.write('environments/dev/deployment.yaml', deployment('fallback: global\n'))
        expect(await devErrors()).toEqual([])
        f.git('checkout', '--', '.')
    })

    it('KF124 for a regional base URL off the provider\'s own origins, unless the operator allows it', async () => {
        f.write('environments/dev/deployment.yaml', deployment('', 'https://llm-gateway.example.com/v1'))
        expect((await devErrors()).map((e) => e.slice(0, 5))).toEqual(['KF124'])
        expect(await devErrors(['https://llm-gateway.example.com'])).toEqual([])
        // The provider's own: its probe origin and its regional (data-residency) origins, as the live probe trusts them.
        for (const url of ['https://api.openai.com/v1', 'https://eu.api.openai.com/v1', 'https://jp.api.openai.com/v1']) {
            f.write('environments/dev/deployment.yaml', deployment('', url))
            expect(await devErrors(), url).toEqual([])
        }
        // Not a provider origin: a look-alike host.
        f.write('environments/dev/deployment.yaml', deployment('', 'https://eu.api.openai.com.example.net/v1'))
        expect((await devErrors()).map((e) => e.slice(0, 5))).toEqual(['KF124'])
        f.git('checkout', '--', '.')
    })

    it('a changed variant affects only its region\'s agents, and the report names the region', async () => {
        f.set('dev', 'OPENAI_API_KEY__EU', fakeKey.openai())
        f.commit('rotate the eu openai key')
        const report = await changeReport({ root: f.root, base: 'HEAD~1', head: 'HEAD' })
        const dev = report.environments.find((e) => e.env === 'dev')
        expect(dev).toMatchObject({ changed: ['OPENAI_API_KEY__EU'], agentsAffected: ['support-eu'], agentRegions: { 'support-eu': 'eu' } })
        expect(changeReportText(report)).toContain('agents affected: support-eu (eu)')
        expect(changeReportMarkdown(report)).toContain('`support-eu` (region eu)')
        f.set('dev', 'OPENAI_API_KEY', fakeKey.openai())
        f.commit('rotate the global openai key')
        const global = (await changeReport({ root: f.root, base: 'HEAD~1', head: 'HEAD' })).environments.find((e) => e.env === 'dev')
        expect(global?.agentsAffected).toEqual(['support-global'])
    })
})
