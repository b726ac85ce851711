import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

// A tiny run of `npm run bench`, so the benchmark keeps working. Its numbers
// mean nothing at this size; the real figures are in BENCHMARKS.md.
describe('npm run bench (smoke)', () => {
  it('runs the whole pipeline on a small workload and prints one JSON object', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), '--subscribers', '150', '--papers', '60', '--old', '300', '--no-http', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(result).sort()).toEqual(['endToEndPerSec', 'matchPerSec', 'naiveFtsPerSec', 'naiveMjmlPerSec', 'papers', 'peakRssMb', 'pipeLimitPerSec', 'pipelinePerSec', 'renderPerSec', 'subscribers'].sort());
    expect(result.subscribers).toBe(150);
    for (const v of Object.values(result)) expect(v).toBeGreaterThan(0);
  }, 130_000);
});
