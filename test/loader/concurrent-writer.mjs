// Worker thread: a kubelet in another thread, rotating a Secret volume as fast as it can.
// Loaded by torn-reads.test.ts with { kubelet: <bundled kubelet.ts>, dir, rotations, payloadPrefix }.
import { workerData, parentPort } from 'node:worker_threads'

const { KubeletVolume } = await import(workerData.kubelet)
const vol = new KubeletVolume(workerData.dir)
const payload = (i) => ({
    OPENAI_API_KEY: `sk-proj-rotation-${String(i).padStart(6, '0')}-aaaaaaaaaaaa`,
    ANTHROPIC_API_KEY: `sk-ant-api03-rotation-${String(i).padStart(6, '0')}-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb`,
})
for (let i = 1; i <= workerData.rotations; i++) vol.write(payload(i))
parentPort.postMessage({ swaps: vol.swaps })
