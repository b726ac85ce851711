import { isDatabaseBusy } from '../errors.js';
import type { Logger } from '../logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a write until it is not refused as busy: backoff from 25 ms doubling to
 * 1 s (each try also waits out the busy timeout), for at most `maxMs` in all;
 * other errors, and busy past `maxMs`, are thrown.
 */
export async function retryWhileBusy<T>(what: string, fn: () => T | Promise<T>, opts: { log?: Logger; maxMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.maxMs ?? 10 * 60_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isDatabaseBusy(err) || Date.now() >= deadline) throw err;
      if (attempt === 1 || attempt % 10 === 0) opts.log?.warn({ what, attempt }, 'database busy; retrying');
      await sleep(Math.min(25 * 2 ** (attempt - 1), 1000));
    }
  }
}
