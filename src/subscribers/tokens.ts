import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const TokenPurpose = z.enum(['confirm', 'manage', 'unsubscribe', 'digest', 'feedback', 'feed']);
export type TokenPurpose = z.infer<typeof TokenPurpose>;

/**
 * Whom a token names: the subscriber's random link key (never reused, so a
 * link can never pass to another person), or, for links signed before link
 * keys existed, a bare subscriber id (see `resolve` in links.ts for where
 * those are still accepted).
 */
export type TokenSubject = { key: string; legacyId?: undefined } | { key?: undefined; legacyId: number };

/** What a valid token names. */
export interface TokenClaims {
  subject: TokenSubject;
  purpose: TokenPurpose;
  version: number;
  /** Unix seconds; 0 = never expires (unsubscribe links must keep working). */
  expires: number;
  /** Extra data bound into the signature (the period key of a digest). */
  extra: string;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const b64 = (s: string) => Buffer.from(s).toString('base64url');
// A key subject is "k" + the key; a legacy subject is all digits.
const KEY_SUBJECT = /^k([0-9A-Za-z_-]{16,64})$/;
const LEGACY_SUBJECT = /^[0-9]{1,15}$/;

// Straight to base64url: a digest signs a dozen links, and a Buffer and its conversion per link show in the run's profile.
function mac(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`paperboy-token:${payload}`).digest('base64url');
}

/** Signs claims: `<base64url payload>.<base64url HMAC-SHA256>`; the MAC covers key, purpose, version, expiry and extra. */
export function signToken(secret: string, c: Omit<TokenClaims, 'subject'> & { key: string }): string {
  if (!KEY_SUBJECT.test(`k${c.key}`)) throw new Error('a link key is 16-64 characters of [0-9A-Za-z_-]');
  const payload = b64([`k${c.key}`, c.purpose, c.version, c.expires, c.extra].join('|'));
  return `${payload}.${mac(secret, payload)}`;
}

/** Verifies signature (in constant time), shape and expiry. The caller checks subject and version against the subscriber. */
export function verifyToken(secret: string, token: unknown, nowMs: number): TokenCheck {
  if (typeof token !== 'string' || token.length > 512) return { ok: false, reason: 'malformed' };
  const [payload, sig, more] = token.split('.');
  if (!payload || !sig || more !== undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const expected = Buffer.from(mac(secret, payload), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  const [who = '', purpose, version, expires, ...extra] = Buffer.from(payload, 'base64url').toString().split('|');
  const parsedPurpose = TokenPurpose.safeParse(purpose);
  const numbers = { version: Number(version), expires: Number(expires) };
  const key = KEY_SUBJECT.exec(who)?.[1];
  const subject: TokenSubject | null = key ? { key } : LEGACY_SUBJECT.test(who) ? { legacyId: Number(who) } : null;
  if (!subject || !parsedPurpose.success || !Object.values(numbers).every(Number.isSafeInteger)) return { ok: false, reason: 'malformed' };
  if (numbers.expires !== 0 && numbers.expires * 1000 < nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { subject, ...numbers, purpose: parsedPurpose.data, extra: extra.join('|') } };
}
