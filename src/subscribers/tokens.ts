import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const TokenPurpose = z.enum(['confirm', 'manage', 'unsubscribe', 'digest']);
export type TokenPurpose = z.infer<typeof TokenPurpose>;

/** What a valid token names. */
export interface TokenClaims {
  subscriberId: number;
  purpose: TokenPurpose;
  version: number;
  /** Unix seconds; 0 = never expires (unsubscribe links must keep working). */
  expires: number;
  /** Extra data bound into the signature (the period key of a digest). */
  extra: string;
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const b64 = (s: string) => Buffer.from(s).toString('base64url');

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(`paperboy-token:${payload}`).digest();
}

/** Signs claims: `<base64url payload>.<base64url HMAC-SHA256>`. */
export function signToken(secret: string, c: TokenClaims): string {
  const payload = b64([c.subscriberId, c.purpose, c.version, c.expires, c.extra].join('|'));
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

/** Verifies signature (in constant time), shape and expiry. The caller checks the version against the subscriber. */
export function verifyToken(secret: string, token: unknown, nowMs: number): TokenCheck {
  if (typeof token !== 'string' || token.length > 512) return { ok: false, reason: 'malformed' };
  const [payload, sig, more] = token.split('.');
  if (!payload || !sig || more !== undefined) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  const [id, purpose, version, expires, ...extra] = Buffer.from(payload, 'base64url').toString().split('|');
  const parsedPurpose = TokenPurpose.safeParse(purpose);
  const claims = { subscriberId: Number(id), version: Number(version), expires: Number(expires) };
  if (!parsedPurpose.success || !Object.values(claims).every(Number.isSafeInteger)) return { ok: false, reason: 'malformed' };
  if (claims.expires !== 0 && claims.expires * 1000 < nowMs) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { ...claims, purpose: parsedPurpose.data, extra: extra.join('|') } };
}
