import { createHmac } from 'node:crypto';
import { ConfigError } from '../config.js';
import type { Sql } from '../db/sql.js';
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

/**
 * Makes webhook_endpoints hold exactly the configured URLs (each wanting every
 * event). `undefined` (WEBHOOK_URLS unset) changes nothing: the list is shared
 * by every process on the database, and removing an endpoint drops its queue.
 * An empty list (WEBHOOK_URLS=none) removes them all.
 */
export async function syncWebhookEndpoints(database: Sql, urls: readonly string[] | undefined, secret: string | undefined): Promise<void> {
  if (urls === undefined) return;
  if (urls.length && !secret) throw new ConfigError('Invalid configuration:\n  WEBHOOK_SECRET: required when WEBHOOK_URLS is set (every webhook is signed)');
  await database.tx(async (t) => {
    const keep = new Set(urls);
    for (const r of await t.all<{ id: number; url: string }>('SELECT id, url FROM webhook_endpoints')) {
      if (!keep.has(r.url)) await t.run('DELETE FROM webhook_endpoints WHERE id = ?', [r.id]);
    }
    for (const url of urls) await t.run('INSERT INTO webhook_endpoints (url) VALUES (?) ON CONFLICT (url) DO NOTHING', [url]);
  });
}

/** What one round did. */
export interface WebhookRound {
  sent: number;
  retried: number;
  failed: number;
}

type Claimed = { id: number; event: string; payload: string; attempts: number; url: string };

/**
 * Sends due webhooks from the stored queue, with retries and backoff. Several
 * processes (web nodes) may run it against one database: rows are claimed
 * with a lease, so each delivery attempt belongs to one process.
 */
export function createWebhookSender(deps: { database: Sql; log: Logger; secret: string | undefined; timeoutMs?: number }) {
  const { database } = deps;
  const timeoutMs = deps.timeoutMs ?? 10_000;
  // A claimed ('sending') row's next_attempt_at is its lease: long enough for
  // the whole batch to time out one by one. A sender that dies mid-batch
  // leaves rows whose lease runs out; any process then claims them again
  // (at least once).
  const leaseMs = BATCH * timeoutMs + 60_000;
  // One statement claims: the compare-and-set in the outer WHERE (still due,
  // still unclaimed or lease over) keeps two processes from taking one row on
  // either engine; on PostgreSQL SKIP LOCKED also lets a second process take
  // the next rows instead of waiting on the first one's.
  const lock = database.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
  const claimSql = `UPDATE webhook_queue SET status = 'sending', next_attempt_at = ?
     WHERE id IN (SELECT id FROM webhook_queue WHERE status IN ('queued', 'sending') AND next_attempt_at <= ?
                  ORDER BY next_attempt_at, id LIMIT ${BATCH} ${lock})
       AND status IN ('queued', 'sending') AND next_attempt_at <= ?
     RETURNING id, event, payload, attempts, (SELECT url FROM webhook_endpoints e WHERE e.id = webhook_queue.endpoint_id) AS url`;
  const claim = async (now: Date): Promise<Claimed[]> => {
    const at = now.toISOString();
    const rows = await database.all<Claimed>(claimSql, [new Date(now.getTime() + leaseMs).toISOString(), at, at]);
    return rows.sort((a, b) => a.id - b.id);
  };
  let running: Promise<WebhookRound> | null = null;
  let warnedNoSecret = false;

  async function round(clock: () => Date): Promise<WebhookRound> {
    const result = { sent: 0, retried: 0, failed: 0 };
    if (!deps.secret) {
      // Endpoints set by another process keep filling the queue; this one cannot sign them.
      if (!warnedNoSecret && (await database.get("SELECT 1 AS x FROM webhook_queue WHERE status = 'queued' LIMIT 1"))) {
        warnedNoSecret = true;
        deps.log.warn('webhook events are queued but this process has no WEBHOOK_SECRET to sign them: set it, or WEBHOOK_URLS=none to turn webhooks off');
      }
      return result;
    }
    for (let rows = await claim(clock()); rows.length; rows = await claim(clock())) {
      for (const r of rows) {
        const t = Math.floor(clock().getTime() / 1000);
        let error: string | null = null;
        try {
          const res = await fetch(r.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'user-agent': 'Paperboy-Webhooks/1', 'paperboy-event': r.event, 'paperboy-delivery': String(r.id), 'paperboy-signature': signWebhook(deps.secret, t, r.payload) },
            body: r.payload,
            redirect: 'error',
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (!res.ok) error = `HTTP ${res.status}`;
          await res.body?.cancel();
        } catch (err) {
          error = (err as Error).message.slice(0, 200);
        }
        const at = clock();
        if (!error) {
          await database.run("UPDATE webhook_queue SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ?", [at.toISOString(), r.id]);
          result.sent++;
          continue;
        }
        const attempts = r.attempts + 1;
        const giveUp = attempts >= MAX_ATTEMPTS;
        await database.run('UPDATE webhook_queue SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?', [
          giveUp ? 'failed' : 'queued',
          attempts,
          new Date(at.getTime() + webhookRetryDelayMs(attempts)).toISOString(),
          error,
          r.id,
        ]);
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
