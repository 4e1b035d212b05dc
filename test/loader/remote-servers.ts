/**
 * Real servers on loopback for the remote-source tests: Debian's nginx with a
 * temp config (static files with ETag/304, optional WebDAV PUT), and bundle
 * fixtures signed and sealed the way publish does it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateIdentity } from '../../src/age/index.js'
import { bundlePlaintext, sealBundle } from '../../src/render/bundle.js'
import { generationId, generationInputs } from '../../src/render/generation.js'
import { formatPublicKey, generateSigningKey, signEnvelope, type PrivateSigningKey } from '../../src/sign/index.js'

export const NGINX = '/usr/sbin/nginx'

/** A free loopback port (bind 0, read, close). */
export const freePort = (): Promise<number> => new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number }
        server.close(() => { resolve(port) })
    })
})

/** A running nginx. */
export interface Nginx {
    readonly origin: string
    readonly www: string
    readonly port: number
    /** Access log lines: `METHOD URI STATUS BYTES_SENT "IF_NONE_MATCH" "AUTHORIZATION" HOST`. */
    log(): string[]
    stop(): Promise<void>
    /** Starts it again on the same port and root (after `stop`). */
    restart(): Promise<void>
    /** Switches a failure mode on or off: every answer a 503, a 429 with Retry-After: 2, or a 302 to another origin (localhost). */
    mode(which: '503' | '429' | 'redirect', on: boolean): void
}

const waitListening = async (port: number, child: ChildProcess, errorLog: string): Promise<void> => {
    for (let i = 0; i < 400; i++) {
        if (child.exitCode !== null) throw new Error(`nginx exited: ${readFileSync(errorLog, 'utf8')}`)
        try {
            const r = await fetch(`http://127.0.0.1:${port}/__ready`)
            await r.body?.cancel()
            return
        } catch {
            await new Promise((r) => setTimeout(r, 25))
        }
    }
    throw new Error('nginx did not start listening')
}

/** Starts nginx (single process, `master_process off`, so it runs as this user) serving `www`. */
export const startNginx = async (options: { dav?: boolean } = {}): Promise<Nginx> => {
    const dir = mkdtempSync(join(tmpdir(), 'kf-nginx-'))
    const www = join(dir, 'www')
    mkdirSync(www)
    mkdirSync(join(dir, 'tmp'))
    const port = await freePort()
    const conf = join(dir, 'nginx.conf')
    writeFileSync(conf, `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  log_format kf escape=none '$request_method $uri $status $bytes_sent "$http_if_none_match" "$http_authorization" $host';
  access_log ${dir}/access.log kf;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  types { text/plain bundle; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    etag on;
    location / {
      if (-f ${dir}/mode-503) { return 503; }
      if (-f ${dir}/mode-429) { add_header Retry-After 2 always; return 429; }
      if (-f ${dir}/mode-redirect) { return 302 http://localhost:${port}$uri; }
      ${options.dav === true ? 'dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r;' : ''}
    }
  }
}
`)
    let child: ChildProcess
    const start = async (): Promise<void> => {
        child = spawn(NGINX, ['-p', dir, '-c', conf], { stdio: 'ignore' })
        await waitListening(port, child, join(dir, 'error.log'))
    }
    const stop = (): Promise<void> => new Promise((resolve) => {
        if (child.exitCode !== null) { resolve(); return }
        child.once('exit', () => { resolve() })
        child.kill('SIGTERM')
    })
    await start()
    return {
        origin: `http://127.0.0.1:${port}`,
        www,
        port,
        log: () => { try { return readFileSync(join(dir, 'access.log'), 'utf8').split('\n').filter((l) => l !== '' && !l.includes('/__ready')) } catch { return [] } },
        stop: async () => { await stop() },
        restart: start,
        mode: (which, on) => { if (on) writeFileSync(join(dir, `mode-${which}`), ''); else rmSync(join(dir, `mode-${which}`), { force: true }) },
        // Cleanup is the caller's stop + this dir; kept simple: remove on process exit.
    } satisfies Nginx
}

/** A host with its identity, and an environment's signing key, to make bundles with. */
export interface Fleet {
    readonly identity: string
    readonly recipient: string
    readonly signing: PrivateSigningKey
    readonly signingPub: string
    /** A signed bundle for `agent` with `keys`, issued at `issuedAt` (default: a strictly increasing clock). */
    bundle(keys: Record<string, string>, options?: { agent?: string; environment?: string; issuedAt?: number; signer?: PrivateSigningKey; recipient?: string; weights?: Record<string, number> }): Promise<{ text: string; issuedAt: number; generation: string }>
}

let clock = Date.now()

/** Makes a fleet: one host identity, one signing key for `prod`. */
export const makeFleet = async (): Promise<Fleet> => {
    const { identity, recipient } = await generateIdentity()
    const signing = generateSigningKey('keyfleet-signing:prod')
    return {
        identity, recipient, signing, signingPub: formatPublicKey(signing.publicKey),
        bundle: async (keys, o = {}) => {
            const environment = o.environment ?? 'prod'
            const agent = o.agent ?? 'web'
            const entries = Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1))
            // As render computes it: the weights (when any) are one more input of the id.
            const generation = generationId(generationInputs(entries, o.weights))
            const issuedAt = o.issuedAt ?? ++clock
            const sealed = await sealBundle(bundlePlaintext(environment, agent, generation, entries, o.weights), o.recipient ?? recipient)
            return { text: signEnvelope({ environment, agent, generation, issuedAt }, sealed, o.signer ?? signing), issuedAt, generation }
        },
    }
}

/** Removes a temp dir (tests call it in afterAll). */
export const removeDir = (dir: string): void => { rmSync(dir, { recursive: true, force: true }) }
