import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startSink } from './sink.js';

/** Requests/s and latency of one endpoint at 50 connections. */
export interface HttpResult {
  requestsPerSec: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  non2xx: number;
}

async function cannon(opts: autocannon.Options): Promise<HttpResult> {
  const r = await autocannon({ connections: 50, duration: 10, ...opts });
  return { requestsPerSec: Math.round(r.requests.average), p99Ms: r.latency.p99, p50Ms: r.latency.p50, errors: r.errors, non2xx: r.non2xx };
}

/** POST /api/subscriptions and GET / over loopback against the app in a child process. */
export async function runHttpBench(log: (s: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-http-'));
  const sink = await startSink();
  const child = fork(fileURLToPath(new URL('./http-server.ts', import.meta.url)), [dir, sink.url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
    const url = `http://127.0.0.1:${port}`;
    let n = 0;
    const api = await cannon({
      url: `${url}/api/subscriptions`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ email: `load${n++}@bench.example`, topics: ['agents', 'diffusion-models'], keywords: ['GRPO'], timezone: 'Europe/Berlin', hour: 7 }) }) }],
    });
    log(`HTTP POST /api/subscriptions: ${api.requestsPerSec} req/s, p99 ${api.p99Ms} ms (${api.non2xx} non-2xx)`);
    const home = await cannon({ url: `${url}/` });
    log(`HTTP GET /: ${home.requestsPerSec} req/s, p99 ${home.p99Ms} ms`);
    // The live preview as readers type: 60 different interest sets (a word at a time), each asked many times.
    const words = ['sparse autoencoders', 'GRPO', 'diffusion', 'LLM agents', 'reasoning', 'Muon', 'vision transformers', 'RLHF', 'mixture of experts', 'tool use'];
    const topics = ['agents', 'diffusion-models', 'interpretability', 'optimizers', 'reinforcement-learning', ''];
    let k = 0;
    const preview = await cannon({
      url: `${url}/api/preview`,
      requests: [{ setupRequest: (req) => {
        const i = k++ % 60;
        const q = new URLSearchParams({ keywords: words.slice(0, 1 + (i % 10)).join(', ') });
        if (topics[i % 6]) q.append('topics', topics[i % 6]!);
        return { ...req, path: `/api/preview?${q}` };
      } }],
    });
    log(`HTTP GET /api/preview: ${preview.requestsPerSec} req/s, p99 ${preview.p99Ms} ms (${preview.non2xx} non-2xx)`);
    return { api, home, preview };
  } finally {
    child.send('stop');
    sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
