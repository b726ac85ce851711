import { isLoopbackHost } from '../config.js';
import { handleBounceMessage, type MailboxDeps, type MessageClass } from './bounce-mailbox.js';

// `paperboy bounces poll` and the scheduled poll in `serve` (IMAP_URL): reads
// the unseen messages of the bounce mailbox with imapflow, hands each to
// bounce-mailbox.ts, and marks it \Seen once handled, so the next poll skips
// it. A message whose handling failed (say the database stayed busy) is left
// unseen for the next poll; one handled but not marked (the connection broke)
// is read again and recordBounce recognises its event id: nothing twice.

/** Per-poll limits: a flood of mail is worked through over several polls, each bounded. */
const BATCH = 200;
/** Reports are at the start of a message; a returned original with attachments need not be fetched whole. */
const MAX_BYTES = 256 * 1024;

/** What one poll did, by class, plus how many were suppressed and how many failed. */
export type PollSummary = Record<MessageClass, number> & { seen: number; suppressed: number; failed: number; left: number };

/** Host, port, TLS, credentials and mailbox of an imaps:// or imap:// URL. */
export function imapTarget(url: string) {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: Number(u.port) || (secure ? 993 : 143),
    secure,
    // imap:// to another machine must upgrade with STARTTLS: the password never crosses in clear.
    doSTARTTLS: secure || isLoopbackHost(host) ? undefined : true,
    auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) },
    mailbox: decodeURIComponent(u.pathname.replace(/^\/+/, '')) || 'INBOX',
  };
}

/** Reads the bounce mailbox once. */
export async function pollBounceMailbox(deps: MailboxDeps & { imapUrl: string; now?: () => Date; batch?: number }): Promise<PollSummary> {
  const { mailbox, ...target } = imapTarget(deps.imapUrl);
  const summary: PollSummary = { seen: 0, hard_bounce: 0, soft_bounce: 0, complaint: 0, auto_reply: 0, ignored: 0, forged: 0, unknown_recipient: 0, suppressed: 0, failed: 0, left: 0 };
  // Loaded on first use: every other command and a serve without IMAP_URL skip its import (~0.3-0.6 s).
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({ ...target, logger: false, disableAutoIdle: true, connectionTimeout: 30_000, greetingTimeout: 15_000, socketTimeout: 120_000 });
  // imapflow reports a broken connection as an event too; the awaited call below rejects with it.
  client.on('error', (err: Error) => deps.log.warn({ err: err.message }, 'bounce mailbox connection error'));
  await client.connect().catch((err: Error & { authenticationFailed?: boolean; responseText?: string }) => {
    // imapflow's own message for a refused login is only "Command failed".
    throw new Error(err.authenticationFailed ? `bounce mailbox: the IMAP server refused the login for ${target.auth.user} (check IMAP_URL)` : `bounce mailbox: ${err.responseText ?? err.message}`);
  });
  try {
    const lock = await client.getMailboxLock(mailbox).catch((err: Error & { responseText?: string }) => {
      throw new Error(`bounce mailbox: cannot open ${mailbox}: ${err.responseText ?? err.message}`);
    });
    try {
      const uids = (await client.search({ seen: false }, { uid: true })) || [];
      summary.left = Math.max(0, uids.length - (deps.batch ?? BATCH));
      for (const uid of uids.slice(0, deps.batch ?? BATCH)) {
        summary.seen++;
        try {
          const msg = await client.fetchOne(String(uid), { uid: true, source: { maxLength: MAX_BYTES } }, { uid: true });
          if (!msg || !msg.source) throw new Error('message vanished before it was read');
          const result = await handleBounceMessage(deps, msg.source, (deps.now ?? (() => new Date()))());
          summary[result.class]++;
          if (result.outcome === 'suppressed') summary.suppressed++;
          await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
        } catch (err) {
          summary.failed++;
          deps.log.error({ err: (err as Error).message, uid }, 'bounce mailbox: a message could not be handled; left unseen for the next poll');
        }
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  deps.log.info({ ...summary }, 'bounce mailbox polled');
  return summary;
}

/** The mailbox settings of a running Paperboy (config.bounces, the app secret). */
export function mailboxDeps(s: { database: MailboxDeps['database']; log: MailboxDeps['log']; secret: string; config: { bounces: { address?: string; imapUrl?: string }; softBounces: MailboxDeps['softBounces'] } }) {
  const { address, imapUrl } = s.config.bounces;
  if (!imapUrl) return null;
  return { database: s.database, log: s.log, secret: s.secret, bounceAddress: address, softBounces: s.config.softBounces, imapUrl };
}
