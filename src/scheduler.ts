import cron from 'node-cron';
import type { Logger } from './logger.js';

/** A named periodic job. */
export interface Job {
  name: string;
  cron: string;
  run: () => Promise<unknown>;
}

/** Starts cron jobs that never overlap themselves; `stop()` waits for running ones to finish. */
export function startScheduler(jobs: Job[], log: Logger) {
  const running = new Map<string, Promise<unknown>>();
  const tasks = jobs.map((job) =>
    cron.schedule(job.cron, () => {
      if (running.has(job.name)) {
        log.warn({ job: job.name }, 'previous run still going; skipping this tick');
        return;
      }
      const p = job
        .run()
        .catch((err) => log.error({ job: job.name, err }, 'scheduled job failed'))
        .finally(() => running.delete(job.name));
      running.set(job.name, p);
    }),
  );
  return {
    async stop() {
      for (const t of tasks) await t.stop();
      await Promise.all(running.values());
    },
  };
}

/** Throws when a cron expression is invalid, naming the setting. */
export function assertCron(expr: string, setting: string): void {
  if (!cron.validate(expr)) throw new Error(`${setting}: "${expr}" is not a valid cron expression`);
}
