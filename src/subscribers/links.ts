import type { Sql } from '../db/sql.js';
import { AppError } from '../errors.js';
import { findById, findByLinkKey, type Subscriber } from './subscriber-repo.js';
import { signToken, verifyToken, type TokenPurpose } from './tokens.js';

export const CONFIRM_TTL_MS = 7 * 24 * 3600 * 1000;
/** What a digest's feedback token binds besides the reader: this prefix and the period key (a paper's own token binds its id). */
export const DIGEST_FEEDBACK = 'digest:';

type LinkSubject = Pick<Subscriber, 'linkKey' | 'tokenVersion'>;

/** Signed, purpose-bound links for one Paperboy instance. */
export function createLinks(secret: string, publicUrl: string) {
  const token = (s: LinkSubject, purpose: TokenPurpose, expires = 0, extra = '') =>
    signToken(secret, { key: s.linkKey, purpose, version: s.tokenVersion, expires, extra });
  // No "use your latest email": after an unsubscribe or a deletion no email holds a working link. The start page
  // always leads somewhere: entering the address there mails a confirmation, or a manage link to a current reader.
  const invalid = () =>
    new AppError(
      'invalid_token',
      'This link is no longer valid. Unsubscribing, deleting your data or “Invalidate old links” turns off the links in earlier emails from Paperboy. Enter your address on the start page and Paperboy emails you a link that works.',
    );

  /**
   * Checks signature, expiry and purpose (a failure throws), then finds the row:
   * undefined when the token is genuine but names nobody any more (or a version
   * it may not use).
   */
  async function lookup(sql: Sql, raw: unknown, purpose: TokenPurpose, now: Date) {
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
    if (claims.purpose !== purpose) throw invalid();
    const { key, legacyId } = claims.subject;
    // Id-named links were signed before link keys existed (migration 0003): only an
    // unsubscribe link, and only for a row that existed then, whose id was never reused since.
    const row = key !== undefined ? await findByLinkKey(sql, key) : purpose === 'unsubscribe' ? await findById(sql, legacyId) : undefined;
    const subscriber = row && (key !== undefined || row.legacyLinks) ? row : undefined;
    if (!subscriber) return { subscriber, claims };
    // A digest's web copy (the archive) carries no personal links, so it survives unsubscribing and link resets like unsubscribe links do.
    const versionOk = purpose === 'unsubscribe' || purpose === 'digest' ? claims.version <= subscriber.tokenVersion : claims.version === subscriber.tokenVersion;
    if (!versionOk) throw invalid();
    return { subscriber, claims };
  }

  return {
    token,
    /** Confirmation link; expires after 7 days. */
    confirmUrl: (s: LinkSubject, now: Date) =>
      `${publicUrl}/confirm/${token(s, 'confirm', Math.floor((now.getTime() + CONFIRM_TTL_MS) / 1000))}`,
    /** Preferences link; no expiry, revoked by bumping the token version. */
    manageUrl: (s: LinkSubject) => `${publicUrl}/manage/${token(s, 'manage')}`,
    /** Unsubscribe link; never expires. */
    unsubscribeUrl: (s: LinkSubject) => `${publicUrl}/unsubscribe/${token(s, 'unsubscribe')}`,
    /**
     * The feedback links of one digest: this base, then `/<paper id>` ("More like this" adds
     * `?choice=more`). One signature per digest (not per paper): the page accepts a paper only if the
     * ledger holds it in that reader's digest of that period. No expiry, revoked with the manage links.
     */
    digestFeedbackBase: (s: LinkSubject, periodKey: string) => `${publicUrl}/feedback/${token(s, 'feedback', 0, `${DIGEST_FEEDBACK}${periodKey}`)}`,
    /** A feedback link signed for one paper, as digests carried them before (still accepted: feedback links never expire). */
    feedbackUrl: (s: LinkSubject, paperId: string, choice?: 'more' | 'less') => `${publicUrl}/feedback/${token(s, 'feedback', 0, paperId)}${choice ? `?choice=${choice}` : ''}`,
    /** "View in browser" link of one delivered digest: its web copy, which carries no personal links. */
    digestUrl: (s: LinkSubject, periodKey: string) => `${publicUrl}/digest/${token(s, 'digest', 0, periodKey)}`,
    /** The reader's Atom feed of their digests' papers; no expiry, revoked with the manage links. */
    feedUrl: (s: LinkSubject) => `${publicUrl}/feed/${token(s, 'feed')}`,

    /**
     * The subscriber a token names, or a friendly AppError. A token names its
     * subscriber by a random key that dies with the row, so a deleted reader's
     * links never reach whoever signs up next. Unsubscribe tokens of older
     * versions still work (unsubscribe links must never stop working), and so do
     * digest (archive) links, whose page can act on nothing; every other purpose
     * needs the current version.
     */
    async resolve(sql: Sql, raw: unknown, purpose: TokenPurpose, now: Date): Promise<{ subscriber: Subscriber; extra: string }> {
      const { subscriber, claims } = await lookup(sql, raw, purpose, now);
      if (!subscriber) throw invalid();
      return { subscriber, extra: claims.extra };
    },

    /**
     * The reader behind an unsubscribe link, or null when the link is genuine but
     * its reader no longer exists (they deleted their data, or an operator removed
     * them). The rule: our HMAC signature proves Paperboy issued the link, and
     * link keys are random and never reused, so a genuine link whose key names no
     * row can only belong to a deleted reader: the answer is "you are not
     * subscribed" (200; unsubscribe links keep working forever, and a mailbox
     * provider's one-click POST must not get a 4xx), and nothing is read or
     * changed. That answer carries no address and only reaches someone holding a
     * link we signed, so it enumerates nothing. A tampered or forged token fails
     * the signature and still gets the 400 below, whoever it names.
     */
    async resolveUnsubscribe(sql: Sql, raw: unknown, now: Date): Promise<Subscriber | null> {
      return (await lookup(sql, raw, 'unsubscribe', now)).subscriber ?? null;
    },
  };
}
export type Links = ReturnType<typeof createLinks>;
