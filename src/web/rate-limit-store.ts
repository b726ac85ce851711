import { createHash } from 'node:crypto';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import type { Sql } from '../db/sql.js';

/**
 * express-rate-limit's counters in the database, so several web nodes behind
 * one load balancer share one limit per client (used on PostgreSQL; a single
 * SQLite node keeps the in-memory store). Keys are hashed: no IP addresses at rest.
 */
export class DatabaseRateStore implements Store {
  localKeys = false;
  private windowMs = 60_000;
  private calls = 0;

  constructor(
    private readonly sql: Sql,
    readonly prefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  private key(key: string): string {
    return `${this.prefix}:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const now = this.now();
    const reset = new Date(now.getTime() + this.windowMs).toISOString();
    // One statement: a window that has ended starts again at 1.
    const row = await this.sql.get<{ hits: number; resetAt: string }>(
      `INSERT INTO rate_limits (key, hits, reset_at) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN rate_limits.reset_at <= ? THEN 1 ELSE rate_limits.hits + 1 END,
         reset_at = CASE WHEN rate_limits.reset_at <= ? THEN excluded.reset_at ELSE rate_limits.reset_at END
       RETURNING hits, reset_at AS "resetAt"`,
      [this.key(key), reset, now.toISOString(), now.toISOString()],
    );
    if (++this.calls % 500 === 0) await this.sql.run('DELETE FROM rate_limits WHERE reset_at <= ?', [now.toISOString()]);
    return { totalHits: row!.hits, resetTime: new Date(row!.resetAt) };
  }

  async decrement(key: string): Promise<void> {
    await this.sql.run('UPDATE rate_limits SET hits = hits - 1 WHERE key = ? AND hits > 0', [this.key(key)]);
  }

  async resetKey(key: string): Promise<void> {
    await this.sql.run('DELETE FROM rate_limits WHERE key = ?', [this.key(key)]);
  }
}
