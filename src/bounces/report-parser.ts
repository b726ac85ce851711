import { simpleParser } from 'mailparser';
import { maskAddresses } from '../email/smtp-failure.js';
import type { BounceReport } from './suppression.js';

// Bounce mailbox messages (issue 16): delivery status notifications
// (RFC 3464, multipart/report; report-type=delivery-status) and feedback-loop
// complaints (ARF, RFC 5965, report-type=feedback-report). Anything else (a
// vacation reply, a human answer, a "delayed" DSN) is ignored: listmonk's
// mailbox scan counted auto-replies as bounces; only a machine report with a
// failed action or a feedback report counts here.

/** What one mailbox message came to. */
export interface ParsedReport {
  kind: 'dsn' | 'arf' | 'ignored';
  reports: BounceReport[];
  why?: string;
}

/** RFC 822-style header blocks ("Name: value", folded lines), as the report parts carry them. */
export function headerBlocks(text: string): Map<string, string>[] {
  return text
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      let last = '';
      for (const line of block.split('\n')) {
        if (/^\s/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
        else {
          const i = line.indexOf(':');
          if (i > 0) fields.set((last = line.slice(0, i).trim().toLowerCase()), line.slice(i + 1).trim());
        }
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

const address = (v: string | undefined) => (v ?? '').replace(/^rfc822;\s*/i, '').replace(/^<|>$/g, '').trim();

/**
 * The recipient a VERP return path names: bounces+ada=example.org@host → ada@example.org.
 * Paperboy's own per-message return path is the most reliable source: a DSN's
 * Final-Recipient may be a forwarding address the reader never gave us.
 */
export function verpRecipient(to: string | undefined, bounceAddress: string | undefined): string | null {
  if (!to || !bounceAddress) return null;
  const [local, domain] = bounceAddress.split('@');
  const m = new RegExp(`^${escape(local!)}\\+([^=@]+)=([^@]+)@${escape(domain!)}$`, 'i').exec(address(to));
  return m ? `${m[1]}@${m[2]}` : null;
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The top-level parts of a multipart body: content type and decoded text.
 * mailparser folds message/delivery-status into the text body, so the report
 * parts are split here (7bit, quoted-printable or base64, as RFC 3464 allows).
 */
export function reportParts(raw: string, boundary: string): { type: string; text: string }[] {
  const chunks = raw.replace(/\r\n/g, '\n').split(`--${boundary}`).slice(1);
  return chunks
    .filter((c) => !c.startsWith('--'))
    .map((c) => {
      const at = c.indexOf('\n\n');
      const head = headerBlocks(at >= 0 ? c.slice(0, at) : c)[0] ?? new Map<string, string>();
      let body = at >= 0 ? c.slice(at + 2) : '';
      const encoding = (head.get('content-transfer-encoding') ?? '').toLowerCase();
      if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      else if (encoding === 'quoted-printable') body = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      return { type: (head.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase(), text: body };
    });
}

/** Reads one raw message from the bounce mailbox. */
export async function parseBounceMessage(raw: Buffer | string, opts: { bounceAddress?: string } = {}): Promise<ParsedReport> {
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const contentType = String(mail.headers.get('content-type') && (mail.headers.get('content-type') as { value?: string; params?: Record<string, string> }).value);
  const params = (mail.headers.get('content-type') as { params?: Record<string, string> } | undefined)?.params ?? {};
  const messageId = mail.messageId ?? `no-id-${Date.now()}`;
  const deliveredTo = String(mail.headers.get('delivered-to') ?? (mail.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : '') ?? '');
  const verp = verpRecipient(deliveredTo, opts.bounceAddress);
  const parts = reportParts(typeof raw === 'string' ? raw : raw.toString('utf8'), params.boundary ?? '');
  const part = (...types: string[]) => parts.find((p) => types.includes(p.type))?.text ?? '';
  if (contentType !== 'multipart/report') return { kind: 'ignored', reports: [], why: mail.headers.get('auto-submitted') ? 'auto-reply' : 'not a report' };

  if (params['report-type'] === 'delivery-status') {
    const [, ...recipients] = headerBlocks(part('message/delivery-status', 'message/global-delivery-status'));
    const reports = recipients.flatMap((r): BounceReport[] => {
      // Only a failure is a bounce; "delayed", "delivered", "relayed", "expanded" are not.
      if ((r.get('action') ?? '').toLowerCase() !== 'failed') return [];
      const code = /^([245])\.\d{1,3}\.\d{1,3}/.exec(r.get('status') ?? '')?.[1];
      const email = verp ?? address(r.get('original-recipient') ?? r.get('final-recipient'));
      if (!email.includes('@')) return [];
      return [{ provider: 'imap', eventId: `${messageId}:${email.toLowerCase()}`, kind: code === '4' ? 'soft_bounce' : 'hard_bounce', email, detail: maskAddresses(`${r.get('status') ?? ''} ${r.get('diagnostic-code') ?? ''}`.trim()).slice(0, 300) }];
    });
    return { kind: 'dsn', reports, why: reports.length ? undefined : 'no failed recipient' };
  }

  if (params['report-type'] === 'feedback-report') {
    const [fields] = headerBlocks(part('message/feedback-report', 'message/global-feedback-report'));
    const type = (fields?.get('feedback-type') ?? '').toLowerCase();
    // "abuse" (and the legacy "fraud"/"virus" reports) are complaints; "not-spam" and "auth-failure" are not.
    if (!['abuse', 'fraud', 'virus', 'other'].includes(type)) return { kind: 'arf', reports: [], why: `feedback type ${type || 'missing'}` };
    const originalTo = headerBlocks(part('message/rfc822', 'text/rfc822-headers'))[0]?.get('to');
    const email = verp ?? address(fields?.get('original-rcpt-to') ?? /<?([^\s<>]+@[^\s<>]+)>?/.exec(originalTo ?? '')?.[1]);
    if (!email.includes('@')) return { kind: 'arf', reports: [], why: 'no recipient' };
    return { kind: 'arf', reports: [{ provider: 'imap', eventId: `${messageId}:${email.toLowerCase()}`, kind: 'complaint', email, detail: `feedback-type ${type}` }] };
  }
  return { kind: 'ignored', reports: [], why: `report type ${params['report-type'] ?? 'missing'}` };
}
