import type { Database_ } from '../db/client.js';
import { maskEmail, type Logger } from '../logger.js';
import { findByEmail, findById, type Subscriber } from '../subscribers/subscriber-repo.js';
import { parseBounceMessage, type ParsedReport } from './report-parser.js';
import { recordBounce, type BounceOutcome, type BounceReport, type SoftBounceRule } from './suppression.js';
import { readVerpTag, verifyVerpTag } from './verp.js';

// One message from the bounce mailbox, from raw bytes to a suppression. The
// parsing is report-parser.ts and the suppression rules suppression.ts (the
// same as the provider webhooks'); this file only decides who a report is
// about. Anyone can mail the bounce mailbox, so a report counts only for a
// subscriber that Paperboy's signed VERP tag names, or, for mail with no tag
// of ours at all, for the address the report itself names when that is a
// subscriber. A tag that is ours but does not verify (edited, guessed, or for
// a deleted reader) counts for nobody: it is never "corrected" by the
// report's own recipient field, which is what a forger would fill in.

/** What the mailbox reader needs. */
export interface MailboxDeps {
  database: Database_;
  log: Logger;
  /** Signs and verifies VERP tags (the app secret). */
  secret: string;
  /** BOUNCE_ADDRESS: without it no VERP tag is looked for. */
  bounceAddress?: string;
  softBounces: SoftBounceRule;
}

/** How one message was classified. */
export type MessageClass = 'hard_bounce' | 'soft_bounce' | 'complaint' | 'auto_reply' | 'ignored' | 'forged' | 'unknown_recipient';

/** What handling one message did. */
export interface MessageResult {
  class: MessageClass;
  /** recordBounce's outcome for a report that named a subscriber. */
  outcome?: BounceOutcome;
  subscriberId?: number;
  why?: string;
}

/** The subscriber a verified VERP tag among `paths` names; 'forged' when tags of ours are there and none verifies; null when none is there. */
async function taggedSubscriber(deps: MailboxDeps, paths: string[]): Promise<Subscriber | 'forged' | null> {
  if (!deps.bounceAddress) return null;
  const claims = paths.map((p) => readVerpTag(p, deps.bounceAddress!)).filter((c) => c !== null);
  if (!claims.length) return null;
  for (const claim of claims) {
    const s = Number.isSafeInteger(claim.subscriberId) ? await findById(deps.database, claim.subscriberId) : undefined;
    if (s && verifyVerpTag(deps.secret, claim, s.email)) return s;
  }
  return 'forged';
}

/** The reports of a parsed message, each bound to the subscriber it is about (forged or unknown ones say so). */
export async function resolveRecipients(deps: MailboxDeps, parsed: ParsedReport): Promise<{ class: 'forged' | 'unknown_recipient' } | { reports: (BounceReport & { subscriberId: number })[] }> {
  const tagged = await taggedSubscriber(deps, parsed.returnPaths);
  if (tagged === 'forged') return { class: 'forged' };
  // One message went to one reader: with a tag, its worst failure is the report (hard before soft).
  const bind = (r: BounceReport, s: Subscriber) => ({ ...r, email: s.email, eventId: `${parsed.messageKey}:${s.id}`, subscriberId: s.id });
  if (tagged) {
    const worst = parsed.reports.find((r) => r.kind !== 'soft_bounce') ?? parsed.reports[0]!;
    return { reports: [bind(worst, tagged)] };
  }
  const known: (BounceReport & { subscriberId: number })[] = [];
  for (const r of parsed.reports) {
    const s = r.email.includes('@') ? await findByEmail(deps.database, r.email) : undefined;
    if (s) known.push(bind(r, s));
  }
  return known.length ? { reports: known } : { class: 'unknown_recipient' };
}

/** Classifies one raw message and applies what it reports; the same message twice changes nothing the second time. */
export async function handleBounceMessage(deps: MailboxDeps, raw: Buffer | string, now: Date): Promise<MessageResult> {
  const parsed = await parseBounceMessage(raw);
  if (!parsed.reports.length) return { class: parsed.why === 'auto-reply' ? 'auto_reply' : 'ignored', why: parsed.why };
  const resolved = await resolveRecipients(deps, parsed);
  if ('class' in resolved) {
    deps.log.warn({ kind: parsed.kind, class: resolved.class, to: parsed.reports.map((r) => maskEmail(r.email)) }, 'bounce mailbox: report names no subscriber it can be trusted for; ignored');
    return { class: resolved.class };
  }
  let result: MessageResult = { class: 'ignored' };
  for (const { subscriberId, ...report } of resolved.reports) {
    const outcome = await recordBounce(deps.database, report, deps.softBounces, now);
    deps.log.info({ provider: 'imap', kind: report.kind, subscriber: subscriberId, to: maskEmail(report.email), outcome }, 'bounce mailbox report');
    result = { class: report.kind, outcome, subscriberId };
  }
  return result;
}
