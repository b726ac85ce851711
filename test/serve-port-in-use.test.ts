import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseEnv, ROOT, tempDir } from './helpers.js';

// Express 5's app.listen calls its callback on 'error' too: a port in use used to
// log "paperboy is listening" and exit 0 (or keep running the scheduler without a server).
const tmp = tempDir();
let occupier: Server;
let port: number;
let database: Record<string, string>;
beforeAll(async () => {
  database = await databaseEnv(tmp.dir, 'port');
  occupier = createServer();
  await new Promise<void>((r) => occupier.listen(0, '127.0.0.1', r));
  port = (occupier.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => occupier.close(r));
  tmp.cleanup();
});

/** Runs `paperboy serve`; a process still running after `ms` is killed (and reported as code null). */
function serve(env: Record<string, string>, ms = 20_000): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/paperboy.js'), 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...database, OUTBOX_DIR: join(tmp.dir, 'outbox'), SOURCES: 'hf', HF_API_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

describe('paperboy serve on a port already in use', () => {
  it('exits 1 saying the port is in use, without a stack, and never says it is listening (SCHEDULER=false)', async () => {
    const r = await serve({ SCHEDULER: 'false' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`paperboy: port ${port} is already in use`);
    expect(r.stderr).not.toContain('listening');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 with the scheduler on too, starting no job', async () => {
    const r = await serve({ SCHEDULER: 'true' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port} is already in use`);
    expect(r.stderr).not.toContain('listening');
    expect(r.stderr).not.toMatch(/scheduler|"job"/i);
  });
});
