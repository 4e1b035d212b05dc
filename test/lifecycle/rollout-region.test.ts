/** `rollout status` shows each agent's region (issue 18) in the table, the markdown and the JSON. */
import { describe, expect, it } from 'vitest'
import { readRollout, rolloutMarkdown, rolloutRows, type ExpectedAgent, type StatusReader } from '../../src/lifecycle/rollout.js'

const agent = (name: string, region: string | undefined): ExpectedAgent => ({
    name, target: 'bundle', namespace: undefined, deployment: undefined, statusPort: 9469,
    statusUrl: `http://127.0.0.1:1/${name}`, generation: '0123456789abcdef', ...(region === undefined ? {} : { region }),
})

const reader: StatusReader = {
    kubernetes: () => Promise.resolve('not used'),
    host: (a) => Promise.resolve({ where: 'host', generation: a.name === 'eu-bot' ? '0123456789abcdef' : 'fedcba9876543210', healthy: true, reason: undefined }),
}

describe('rollout status and regions', () => {
    it('names the region next to the target, and only where the agent has one', async () => {
        const report = await readRollout('prod', [agent('eu-bot', 'eu'), agent('plain-bot', undefined)], reader)
        expect(rolloutRows(report).map((r) => [r[0], r[1], r[2]])).toEqual([['eu-bot', 'bundle (eu)', 'current'], ['plain-bot', 'bundle', 'behind']])
        expect(report.agents[0]).toMatchObject({ agent: 'eu-bot', region: 'eu' })
        expect(report.agents[1]).not.toHaveProperty('region')
        expect(rolloutMarkdown(report)).toContain('| eu-bot | bundle (eu) | current |')
    })
})
