import { createHash } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { maskAddresses } from '../email/smtp-failure.js';
import type { BounceReport } from './suppression.js';
import { bareAddress } from './verp.js';

// Bounce mailbox messages (issue 16): delivery status notifications
// (RFC 3464, multipart/report; report-type=delivery-status) and feedback-loop
// complaints (ARF, RFC 5965, report-type=feedback-report). Anything else (a
// vacation reply, a human answer, a "delayed" DSN) is ignored: listmonk's
// mailbox scan counted auto-replies as bounces; only a machine report with a
// failed action or a feedback report counts here.

/** What one mailbox message came to. */
export interface ParsedReport {
  kind: 'dsn' | 'arf' | 'ignored';
  /** One per failed recipient (DSN) or complained-about message (ARF); `email` as the report names it, possibly empty. */
  reports: BounceReport[];
  why?: string;
  /** The Message-ID, or a hash of the bytes: the same message always gets the same key. */
  messageKey: string;
  /** Addresses that may carry Paperboy's VERP tag, unverified. */
  returnPaths: string[];
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

const address = (v: string | undefined) => bareAddress((v ?? '').replace(/^rfc822;\s*/i, ''));

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

// RFC 3834 and the headers common autoresponders set instead (Exchange, qmail, vacation(1)).
const AUTO_SUBJECT = /^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|absence|vacation|away from|respuesta autom|r[ée]ponse automatique)/i;
function autoReply(mail: ParsedMail): boolean {
  const header = (name: string) => String(mail.headers.get(name) ?? '').toLowerCase();
  const submitted = header('auto-submitted');
  if (submitted && submitted !== 'no') return true;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond') || mail.headers.has('x-autoresponder')) return true;
  if (['auto_reply', 'bulk', 'junk'].includes(header('precedence'))) return true;
  return AUTO_SUBJECT.test(mail.subject ?? '');
}

/** Every header line named `name` of the outer message (Delivered-To may be repeated). */
const headerValues = (mail: ParsedMail, ...names: string[]) =>
  mail.headerLines.filter((h) => names.includes(h.key)).map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());

/**
 * Reads one raw message from the bounce mailbox. The reports name recipients
 * as the report gives them (Original-/Final-Recipient, Original-Rcpt-To);
 * `returnPaths` lists every address that may carry Paperboy's VERP tag (the
 * outer Delivered-To/X-Original-To/To, the returned message's Return-Path, the
 * ARF Original-Mail-From), for the caller to verify (bounce-mailbox.ts).
 */
export async function parseBounceMessage(raw: Buffer | string): Promise<ParsedReport> {
  const mail = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const contentType = String(ct?.value ?? '').toLowerCase();
  const params = ct?.params ?? {};
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  // Without a Message-ID the bytes identify the message, so a second poll of it is still a duplicate.
  const messageKey = mail.messageId ?? `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const outer = [...headerValues(mail, 'delivered-to', 'x-original-to', 'envelope-to'), ...(mail.to ? [mail.to].flat().flatMap((a) => a.value.map((v) => v.address ?? '')) : [])];
  if (contentType !== 'multipart/report') return { kind: 'ignored', reports: [], why: autoReply(mail) ? 'auto-reply' : 'not a report', messageKey, returnPaths: [] };
  const parts = reportParts(text, params.boundary ?? '');
  const part = (...types: string[]) => parts.find((p) => types.includes(p.type))?.text ?? '';
  const original = headerBlocks(part('message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'))[0];
  const returnPaths = [...outer, original?.get('return-path') ?? ''].map(address).filter((a) => a.includes('@'));

  if (params['report-type'] === 'delivery-status') {
    const [, ...recipients] = headerBlocks(part('message/delivery-status', 'message/global-delivery-status'));
    const reports = recipients.flatMap((r): BounceReport[] => {
      // Only a failure is a bounce; "delayed", "delivered", "relayed", "expanded" are not.
      if ((r.get('action') ?? '').toLowerCase() !== 'failed') return [];
      const code = /^([245])\.\d{1,3}\.\d{1,3}/.exec(r.get('status') ?? '')?.[1];
      const email = address(r.get('original-recipient') ?? r.get('final-recipient'));
      const detail = maskAddresses(`${r.get('status') ?? ''} ${r.get('diagnostic-code') ?? ''}`.trim()).slice(0, 300);
      return [{ provider: 'imap', eventId: messageKey, kind: code === '4' ? 'soft_bounce' : 'hard_bounce', email, detail }];
    });
    return { kind: 'dsn', reports, why: reports.length ? undefined : 'no failed recipient', messageKey, returnPaths };
  }

  if (params['report-type'] === 'feedback-report') {
    const [fields] = headerBlocks(part('message/feedback-report', 'message/global-feedback-report'));
    const type = (fields?.get('feedback-type') ?? '').toLowerCase();
    const arfPaths = [...returnPaths, address(fields?.get('original-mail-from'))].filter((a) => a.includes('@'));
    // "abuse" (and the legacy "fraud"/"virus" reports) are complaints; "not-spam" and "auth-failure" are not.
    if (!['abuse', 'fraud', 'virus', 'other'].includes(type)) return { kind: 'arf', reports: [], why: `feedback type ${type || 'missing'}`, messageKey, returnPaths: arfPaths };
    // Feedback loops often redact the recipient; the VERP return path still names them.
    const email = address(fields?.get('original-rcpt-to') ?? /<?([^\s<>]+@[^\s<>]+)>?/.exec(original?.get('to') ?? '')?.[1]);
    return { kind: 'arf', reports: [{ provider: 'imap', eventId: messageKey, kind: 'complaint', email, detail: `feedback-type ${type}` }], messageKey, returnPaths: arfPaths };
  }
  return { kind: 'ignored', reports: [], why: `report type ${params['report-type'] ?? 'missing'}`, messageKey, returnPaths };
}
