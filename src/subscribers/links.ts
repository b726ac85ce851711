import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import { findById, type Subscriber } from './subscriber-repo.js';
import { signToken, verifyToken, type TokenPurpose } from './tokens.js';

export const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;

/** Signed, purpose-bound links for one Paperboy instance. */
export function createLinks(secret: string, publicUrl: string) {
  const token = (s: Pick<Subscriber, 'id' | 'tokenVersion'>, purpose: TokenPurpose, expires = 0, extra = '') =>
    signToken(secret, { subscriberId: s.id, purpose, version: s.tokenVersion, expires, extra });

  return {
    token,
    /** Confirmation link; expires after 7 days. */
    confirmUrl: (s: Subscriber, now: Date) =>
      `${publicUrl}/confirm/${token(s, 'confirm', Math.floor((now.getTime() + CONFIRM_TTL_MS) / 1000))}`,
    /** Preferences link; no expiry, revoked by bumping the token version. */
    manageUrl: (s: Pick<Subscriber, 'id' | 'tokenVersion'>) => `${publicUrl}/manage/${token(s, 'manage')}`,
    /** Unsubscribe link; never expires. */
    unsubscribeUrl: (s: Pick<Subscriber, 'id' | 'tokenVersion'>) => `${publicUrl}/unsubscribe/${token(s, 'unsubscribe')}`,
    /** "View in browser" link of one delivered digest. */
    digestUrl: (s: Pick<Subscriber, 'id' | 'tokenVersion'>, periodKey: string) =>
      `${publicUrl}/digest/${token(s, 'digest', 0, periodKey)}`,

    /**
     * The subscriber a token names, or a friendly AppError. Unsubscribe tokens of
     * older versions still work (unsubscribe links must never stop working);
     * every other purpose needs the current version.
     */
    resolve(database: Database_, raw: unknown, purpose: TokenPurpose, now: Date): { subscriber: Subscriber; extra: string } {
      const check = verifyToken(secret, raw, now.getTime());
      if (!check.ok) {
        throw new AppError(
          'invalid_token',
          check.reason === 'expired'
            ? 'This link has expired. Subscribe again from the start page to get a fresh one.'
            : 'This link is not valid. It may have been copied incompletely.',
        );
      }
      const { claims } = check;
      const subscriber = claims.purpose === purpose ? findById(database, claims.subscriberId) : undefined;
      const versionOk = subscriber && (purpose === 'unsubscribe' ? claims.version <= subscriber.tokenVersion : claims.version === subscriber.tokenVersion);
      if (!subscriber || !versionOk) {
        throw new AppError('invalid_token', 'This link is no longer valid. Use the link in your most recent email from Paperboy.');
      }
      return { subscriber, extra: claims.extra };
    },
  };
}
export type Links = ReturnType<typeof createLinks>;
