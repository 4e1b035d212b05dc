/**
 * The PUT of a bundle to an object store: Azure Blob's Put Blob requires
 * `x-ms-blob-type: BlockBlob` (Azure REST API, "Put Blob": "Required for all
 * blob types"), while S3/GCS pre-signed URLs get only what they always got.
 */
import { describe, expect, it } from 'vitest'
import { putHeaders } from '../../src/action/commands/publish.js'

describe('putHeaders', () => {
    it('sends x-ms-blob-type: BlockBlob to Azure Blob hosts', () => {
        expect(putHeaders(new URL('https://acct.blob.core.windows.net/fleet/prod/web.bundle?sv=2024&sig=x'))).toEqual({ 'content-type': 'text/plain', 'x-ms-blob-type': 'BlockBlob' })
        expect(putHeaders(new URL('https://ACCT.Blob.Core.Windows.Net/fleet/web.bundle'))['x-ms-blob-type']).toBe('BlockBlob')
    })

    it('sends nothing extra to S3, GCS or a host that only looks like Azure', () => {
        for (const url of ['https://bucket.s3.amazonaws.com/fleet/web.bundle?X-Amz-Signature=x', 'https://storage.googleapis.com/b/web.bundle?X-Goog-Signature=x', 'https://blob.core.windows.net.evil.example/web.bundle', 'http://127.0.0.1:8080/web.bundle']) {
            expect(putHeaders(new URL(url)), url).toEqual({ 'content-type': 'text/plain' })
        }
    })
})
