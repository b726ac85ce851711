import { createHmac, createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { safeEqual } from '../admin/admin-auth.js';

/** Signed webhooks older (or newer) than this are refused as replays. */
export const MAX_SKEW_SECONDS = 5 * 60;

const fresh = (timestamp: string, now: Date) => /^\d{1,12}$/.test(timestamp) && Math.abs(now.getTime() / 1000 - Number(timestamp)) <= MAX_SKEW_SECONDS;

/** Mailgun: hex HMAC-SHA256, keyed with the webhook signing key, of timestamp + token; fresh timestamps only. */
export function verifyMailgun(signingKey: string, sig: { timestamp?: unknown; token?: unknown; signature?: unknown }, now: Date): boolean {
  const { timestamp, token, signature } = sig;
  if (typeof timestamp !== 'string' || typeof token !== 'string' || typeof signature !== 'string') return false;
  if (!fresh(timestamp, now)) return false;
  const expected = createHmac('sha256', signingKey).update(timestamp + token).digest('hex');
  return safeEqual(expected, signature.toLowerCase());
}

/** SendGrid's verification key as shown in its settings: base64 DER (SPKI) of an ECDSA P-256 key, or PEM. */
export function sendgridKey(raw: string): KeyObject {
  const pem = raw.includes('BEGIN PUBLIC KEY') ? raw : `-----BEGIN PUBLIC KEY-----\n${raw.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`;
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY: not an ECDSA P-256 public key');
  return key;
}

/** SendGrid signed event webhook: ECDSA P-256 / SHA-256 (DER, base64) over timestamp + raw body; fresh timestamps only. */
export function verifySendgrid(key: KeyObject, signature: string | undefined, timestamp: string | undefined, rawBody: Buffer, now: Date): boolean {
  if (!signature || !timestamp || !fresh(timestamp, now)) return false;
  const v = createVerify('sha256');
  v.update(Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]));
  try {
    return v.verify(key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** Postmark: the webhook URL carries basic-auth credentials (https://user:pass@host/…), sent as an Authorization header. */
export function verifyBasicAuth(expected: string, header: string | undefined): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  return Boolean(m && safeEqual(Buffer.from(m[1]!, 'base64').toString('utf8'), expected));
}
