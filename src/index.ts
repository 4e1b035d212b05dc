/**
 * The package's main entry, `import … from 'keyfleet'`: the runtime loader's API, the same as
 * `keyfleet/loader`. The CLI is the `keyfleet` executable (a bundle, dist/cli/main.js), not a
 * library entry, so importing the package never loads the CLI or its dependencies (issue 15).
 */
export * from './loader/index.js'
