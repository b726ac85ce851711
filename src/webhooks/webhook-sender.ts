import { createHmac } from 'node:crypto';
import { ConfigError } from '../config.js';
import type { Database_ } from '../db/client.js';
import type { Logger } from '../logger.js';

// Outgoing webhooks (issue 16). Each request carries
//   Paperboy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// so a receiver can check both origin and freshness (the Stripe scheme), plus
// Paperboy-Event and Paperboy-Delivery (the queue id, stable across retries,
// for the receiver's own de-duplication). Delivery is at least once.

export const MAX_ATTEMPTS = 10;
const BATCH = 50;

/** Backoff after the n-th failed attempt: 30 s, 1 min, 2 min, … capped at 6 h. */
export function webhookRetryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** (attempts - 1), 6 * 3600_000);
}

/** The signature header value for a body sent at `t` (unix seconds). */
export function signWebhook(secret: string, t: number, body: string): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

/** Makes webhook_endpoints hold exactly the configured URLs (each wanting every event). */
export function syncWebhookEndpoints({ sqlite }: Database_, urls: readonly string[], secret: string | undefined): void {
  if (urls.length && !secret) throw new ConfigError('Invalid configuration:\n  WEBHOOK_SECRET: required when WEBHOOK_URLS is set (every webhook is signed)');
  sqlite.transaction(() => {
    const keep = new Set(urls);
    for (const r of sqlite.prepare('SELECT id, url FROM webhook_endpoints').all() as { id: number; url: string }[]) {
      if (!keep.has(r.url)) sqlite.prepare('DELETE FROM webhook_endpoints WHERE id = ?').run(r.id);
    }
    for (const url of urls) sqlite.prepare('INSERT INTO webhook_endpoints (url) VALUES (?) ON CONFLICT (url) DO NOTHING').run(url);
  })();
}

/** What one round did. */
export interface WebhookRound {
  sent: number;
  retried: number;
  failed: number;
}

/** Sends due webhooks from the stored queue, with retries and backoff. */
export function createWebhookSender(deps: { database: Database_; log: Logger; secret: string | undefined; timeoutMs?: number }) {
  const { sqlite } = deps.database;
  const claim = sqlite.transaction((now: string) => {
    const rows = sqlite
      .prepare(
        `SELECT q.id, q.event, q.payload, q.attempts, e.url FROM webhook_queue q JOIN webhook_endpoints e ON e.id = q.endpoint_id
         WHERE q.status = 'queued' AND q.next_attempt_at <= ? ORDER BY q.next_attempt_at LIMIT ${BATCH}`,
      )
      .all(now) as { id: number; event: string; payload: string; attempts: number; url: string }[];
    const take = sqlite.prepare("UPDATE webhook_queue SET status = 'sending' WHERE id = ?");
    for (const r of rows) take.run(r.id);
    return rows;
  });
  const done = sqlite.prepare("UPDATE webhook_queue SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?");
  const again = sqlite.prepare('UPDATE webhook_queue SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?');
  let running: Promise<WebhookRound> | null = null;

  async function round(clock: () => Date): Promise<WebhookRound> {
    const result = { sent: 0, retried: 0, failed: 0 };
    if (!deps.secret) return result;
    // A sender that died mid-request left 'sending' rows: they go out again (at least once).
    sqlite.prepare("UPDATE webhook_queue SET status = 'queued' WHERE status = 'sending' AND next_attempt_at <= ?").run(new Date(clock().getTime() - 10 * 60_000).toISOString());
    for (let rows = claim.immediate(clock().toISOString()); rows.length; rows = claim.immediate(clock().toISOString())) {
      for (const r of rows) {
        const t = Math.floor(clock().getTime() / 1000);
        let error: string | null = null;
        try {
          const res = await fetch(r.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'Paperboy-Webhooks/1', 'paperboy-event': r.event, 'paperboy-delivery': String(r.id), 'paperboy-signature': signWebhook(deps.secret, t, r.payload) },
            body: r.payload,
            redirect: 'error',
            signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
          });
          if (!res.ok) error = `HTTP ${res.status}`;
          await res.body?.cancel();
        } catch (err) {
          error = (err as Error).message.slice(0, 200);
        }
        const at = clock();
        if (!error) {
          done.run(at.toISOString(), r.id);
          result.sent++;
          continue;
        }
        const attempts = r.attempts + 1;
        const giveUp = attempts >= MAX_ATTEMPTS;
        again.run(giveUp ? 'failed' : 'queued', attempts, new Date(at.getTime() + webhookRetryDelayMs(attempts)).toISOString(), error, r.id);
        result[giveUp ? 'failed' : 'retried']++;
        deps.log.warn({ webhook: r.id, event: r.event, attempts, err: error, gaveUp: giveUp }, 'webhook delivery failed');
      }
    }
    return result;
  }

  return {
    /** Sends everything due now; one round at a time per process. */
    run(clock: () => Date = () => new Date()): Promise<WebhookRound> {
      running ??= round(clock).finally(() => (running = null));
      return running;
    },
  };
}
export type WebhookSender = ReturnType<typeof createWebhookSender>;
