// ESLint 9 flat config (issue 15): typescript-eslint's type-checked rules, TSDoc syntax, and
// docs/architecture.md's import boundaries as rules. `npm run lint`; `npm test` runs it.
//
// Strict on correctness (promises, unsafe any flowing into typed code) and on the module
// boundaries; quiet on deliberate style. Every rule turned off below says why.
import tseslint from 'typescript-eslint'
import tsdoc from 'eslint-plugin-tsdoc'

/** Packages only the CLI and the action may load (docs/architecture.md). */
const cliOnlyPackages = [
    { name: 'execa', message: 'Only src/sops/ runs processes (and it is not part of the loader).' },
    { name: '@actions/core', message: 'Only src/action/ imports @actions/core.' },
]
/** Relative imports of the glue layers, from anywhere in the core. */
const gluePatterns = [
    { regex: '(^|/)(cli|action)/', message: 'The core never imports cli/ or action/ (docs/architecture.md).' },
]

/** The import boundaries of docs/architecture.md; test/lint/boundaries.test.ts lints samples with them. */
export const boundaries = [
    {
        // The core: everything in src/ but the two glue layers.
        files: ['src/**/*.ts'],
        ignores: ['src/cli/**', 'src/action/**'],
        rules: {
            'no-restricted-imports': ['error', { paths: [{ name: '@actions/core', message: 'Only src/action/ imports @actions/core.' }], patterns: gluePatterns }],
        },
    },
    {
        // The loader ships to agents without the CLI's dependencies (test/package/install.test.ts).
        files: ['src/loader/**/*.ts'],
        rules: {
            'no-restricted-imports': ['error', {
                paths: [
                    ...cliOnlyPackages,
                    { name: 'kubernetes-models', message: 'The loader never loads kubernetes-models (render/ does).' },
                ],
                patterns: [
                    ...gluePatterns,
                    { group: ['kubernetes-models/*', 'execa/*', '@actions/core/*'], message: 'The loader never loads the CLI\'s dependencies.' },
                    { regex: '^(\\.\\./)+sops/(?!native/)', message: 'src/sops/ runs the sops binary through execa; the loader uses src/sops/native/ only.' },
                    // render/generation.ts alone is allowed: node:crypto only, the loader computes the id of what it serves.
                    { regex: '^(\\.\\./)+(render/(?!generation\\.js$)|validate/|lifecycle/)', message: 'render/ brings kubernetes-models and validate/ and lifecycle/ bring execa; the loader must not.' },
                ],
            }],
        },
    },
]

export default tseslint.config(
    { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.github/actions/*/dist/**', 'coverage/**', 'bench/results/**'] },
    {
        files: ['**/*.ts', '**/*.mjs', '**/*.js'],
        extends: [tseslint.configs.recommendedTypeChecked],
        plugins: { tsdoc },
        languageOptions: {
            parserOptions: { project: ['./tsconfig.test.json'], tsconfigRootDir: import.meta.dirname },
        },
        linterOptions: { reportUnusedDisableDirectives: 'error' },
        rules: {
            'tsdoc/syntax': 'error',
            // Correctness: a promise nobody awaits loses its error; a promise passed where a
            // callback's result is ignored (event handlers, forEach) does the same.
            '@typescript-eslint/no-floating-promises': 'error',
            '@typescript-eslint/no-misused-promises': 'error',
            // `_`-prefixed names are the deliberate "unused on purpose" marker.
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
            // Template strings interpolate numbers and booleans on purpose (messages, tables);
            // objects and unknowns stay errors.
            '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
            // Async functions without await implement async interfaces (Command.run, BenchSuite)
            // whose callers await them; forcing `Promise.resolve` wrappers adds noise, not safety.
            '@typescript-eslint/require-await': 'off',
            // String(x) of parsed YAML scalars and option values is deliberate: the value is a
            // scalar at that point, and a wrong "[object Object]" would show in a test, not leak.
            '@typescript-eslint/no-base-to-string': 'off',
            // `Known | string` keeps editor completion for the known values while accepting others.
            '@typescript-eslint/no-redundant-type-constituents': 'off',
        },
    },
    {
        // Plain JS build scripts are not in a tsconfig: syntax rules only.
        files: ['**/*.mjs', '**/*.js'],
        extends: [tseslint.configs.disableTypeChecked],
        rules: { 'tsdoc/syntax': 'off' },
    },
    {
        files: ['test/**/*.ts'],
        rules: {
            // Tests parse JSON output and read mocks whose shape the assertion itself checks.
            '@typescript-eslint/no-unsafe-assignment': 'off',
            '@typescript-eslint/no-unsafe-member-access': 'off',
            '@typescript-eslint/no-unsafe-argument': 'off',
            '@typescript-eslint/no-unsafe-return': 'off',
            // vitest's expect(fn).toThrow and mock objects pass methods around unbound.
            '@typescript-eslint/unbound-method': 'off',
        },
    },
    ...boundaries,
)
