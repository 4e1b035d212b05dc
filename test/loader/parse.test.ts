/** Source formats: what a user may write in a dotenv or JSON source, and what counts as half-written. */
import { describe, expect, it } from 'vitest'
import { LoaderCode } from '../../src/loader/index.js'
import { parseDotenv, parseJsonSource } from '../../src/loader/parse.js'

describe('dotenv', () => {
    it('reads plain, exported, quoted and commented lines', () => {
        const text = [
            '# keys for the support bot',
            'OPENAI_API_KEY=sk-proj-abc  # rotated monthly',
            'export GEMINI_API_KEY=AIza123',
            'ANTHROPIC_API_KEY="sk-ant-with \\"quote\\" and # hash"',
            "DEEPINFRA_API_KEY='single # kept'",
            'MULTI="a\\nb"',
            '',
            'WINDOWS=crlf\r',
        ].join('\n')
        expect(Object.fromEntries(parseDotenv(text, 'f'))).toEqual({
            OPENAI_API_KEY: 'sk-proj-abc',
            GEMINI_API_KEY: 'AIza123',
            // dotenv keeps backslashes in double quotes; it expands only \n and \r.
            ANTHROPIC_API_KEY: 'sk-ant-with \\"quote\\" and # hash',
            DEEPINFRA_API_KEY: 'single # kept',
            MULTI: 'a\nb',
            WINDOWS: 'crlf',
        })
    })

    it.each([
        ['a line cut before its =', 'A=1\nOPENAI_AP', 2],
        ['an unterminated quote', 'A="sk-proj-abc', 1],
        ['a bad name', '1ABC=x', 1],
        ['text after a closing quote', 'A="x" y', 1],
    ])('rejects %s, naming the line but not its content', (_what, text, line) => {
        try {
            parseDotenv(text, 'agent.env')
            expect.unreachable()
        } catch (error) {
            expect(error).toMatchObject({ code: LoaderCode.PARSE_FAILED, line })
            expect((error as Error).message).not.toContain('sk-proj-abc')
        }
    })
})

describe('JSON', () => {
    it('reads a flat object and a bundle/v1 payload', () => {
        expect(Object.fromEntries(parseJsonSource('{"OPENAI_API_KEY":"sk-1"}', 'f'))).toEqual({ OPENAI_API_KEY: 'sk-1' })
        const bundle = JSON.stringify({ keyfleet: 'bundle/v1', environment: 'dev', agent: 'bot', generation: '7', keys: { GEMINI_API_KEY: 'AIza' } })
        expect(Object.fromEntries(parseJsonSource(bundle, 'f'))).toEqual({ GEMINI_API_KEY: 'AIza' })
    })

    it.each(['{"OPENAI_API_KEY":"sk-proj-abc', '["sk-proj-abc"]', '{"A":{"nested":"sk-proj-abc"}}', '{"keyfleet":"bundle/v9","keys":{}}'])(
        'rejects %s without echoing it', (text) => {
            expect(() => parseJsonSource(text, 'keys.json')).toThrowError(expect.objectContaining({
                code: LoaderCode.PARSE_FAILED, message: expect.not.stringContaining('sk-proj-abc'),
            }))
        })
})
