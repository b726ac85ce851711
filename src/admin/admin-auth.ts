import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database_ } from '../db/client.js';

/** Failed sign-ins from one address within the window that lock it out for the rest of the window. */
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60_000;
export const SESSION_MS = 12 * 3600_000;
export const SESSION_COOKIE = 'paperboy_admin';

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const newSecret = () => randomBytes(32).toString('base64url');

/** Constant-time comparison of two strings of any length (both hashed first, so lengths leak nothing). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** What a sign-in attempt came to. */
export type SignIn = { ok: true; sessionId: string; csrf: string } | { ok: false; reason: 'locked' | 'wrong'; retryAfterSeconds?: number };

/**
 * Admin sign-in, sessions and lock-out, stored in the database (migration 0006)
 * so they survive restarts and hold across every web node of one database.
 */
export function createAdminAuth(database: Database_, adminToken: string, clock: () => Date = () => new Date()) {
  const idHash = (id: string) => sha256(id).toString('hex');

  return {
    /** Checks the token (constant time) unless this address is locked out; on success opens a session. */
    async signIn(ip: string, token: string): Promise<SignIn> {
      const now = clock();
      const since = new Date(now.getTime() - LOCKOUT_MS).toISOString();
      const seen = (await database.get<{ n: number; first: string | null }>(
        'SELECT count(*) AS n, min(at) AS first FROM admin_login_failures WHERE ip = ? AND at > ?',
        [ip, since],
      ))!;
      if (seen.n >= MAX_FAILURES) {
        const until = Date.parse(seen.first!) + LOCKOUT_MS;
        return { ok: false, reason: 'locked', retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
      }
      if (!safeEqual(token, adminToken)) {
        await database.run('INSERT INTO admin_login_failures (ip, at) VALUES (?, ?)', [ip, now.toISOString()]);
        return { ok: false, reason: 'wrong' };
      }
      const sessionId = newSecret();
      const csrf = newSecret();
      await database.tx(async (t) => {
        await t.run('DELETE FROM admin_login_failures WHERE ip = ? OR at <= ?', [ip, since]);
        await t.run('INSERT INTO admin_sessions (id_hash, csrf, created_at, expires_at) VALUES (?, ?, ?, ?)', [
          idHash(sessionId),
          csrf,
          now.toISOString(),
          new Date(now.getTime() + SESSION_MS).toISOString(),
        ]);
      });
      return { ok: true, sessionId, csrf };
    },

    /** The live session a cookie names (its CSRF token), or null. */
    async session(sessionId: string | undefined): Promise<{ csrf: string } | null> {
      if (!sessionId) return null;
      const row = await database.get<{ csrf: string; expiresAt: string }>('SELECT csrf, expires_at AS "expiresAt" FROM admin_sessions WHERE id_hash = ?', [
        idHash(sessionId),
      ]);
      return row && row.expiresAt > clock().toISOString() ? { csrf: row.csrf } : null;
    },

    /** Ends a session (and sweeps expired ones). */
    async signOut(sessionId: string | undefined): Promise<void> {
      await database.run('DELETE FROM admin_sessions WHERE id_hash = ? OR expires_at <= ?', [idHash(sessionId ?? ''), clock().toISOString()]);
    },
  };
}
export type AdminAuth = ReturnType<typeof createAdminAuth>;

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}
