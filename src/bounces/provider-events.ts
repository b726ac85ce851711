import { maskAddresses } from '../email/smtp-failure.js';
import type { BounceReport } from './suppression.js';

// Pure readers of each provider's payload: what bounced or complained, how
// hard, under the provider's own event id. Anything else (deliveries, opens,
// auto-replies, deferrals) yields nothing. Shapes: test/fixtures/providers/.

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const detail = (...parts: unknown[]) => maskAddresses(parts.map(str).filter(Boolean).join(' ')).slice(0, 300) || undefined;

/** Amazon SES notification (the SNS Message, JSON): Bounce (Permanent = hard, Transient/Undetermined = soft) and Complaint. Handles both notification and event-publishing shapes. */
export function sesReports(message: Json, snsMessageId: string): BounceReport[] {
  const type = str(message.notificationType ?? message.eventType);
  if (type === 'Bounce') {
    const b = obj(message.bounce);
    const kind = str(b.bounceType) === 'Permanent' ? 'hard_bounce' : 'soft_bounce';
    const id = str(b.feedbackId) || snsMessageId;
    return (Array.isArray(b.bouncedRecipients) ? b.bouncedRecipients : []).map((r) => {
      const rec = obj(r);
      return { provider: 'ses', eventId: `${id}:${str(rec.emailAddress).toLowerCase()}`, kind, email: str(rec.emailAddress), detail: detail(b.bounceSubType, rec.status, rec.diagnosticCode) } as BounceReport;
    }).filter((r) => r.email);
  }
  if (type === 'Complaint') {
    const c = obj(message.complaint);
    // "not-spam" feedback is a reader saying the opposite; it is no complaint.
    if (str(c.complaintFeedbackType) === 'not-spam') return [];
    const id = str(c.feedbackId) || snsMessageId;
    return (Array.isArray(c.complainedRecipients) ? c.complainedRecipients : []).map((r) => {
      const email = str(obj(r).emailAddress);
      return { provider: 'ses', eventId: `${id}:${email.toLowerCase()}`, kind: 'complaint', email, detail: detail(c.complaintFeedbackType) } as BounceReport;
    }).filter((r) => r.email);
  }
  return [];
}

// Postmark bounce types (postmarkapp.com/developer/api/bounce-api#bounce-types) that mean the address is dead.
const POSTMARK_HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'Blocked', 'SpamNotification']);
const POSTMARK_SOFT = new Set(['SoftBounce', 'Transient', 'DnsError', 'MailFrontier', 'ChallengeVerification']);

/** Postmark Bounce and SpamComplaint webhooks. AutoResponder, OpenRelayTest, Unknown, … are ignored. */
export function postmarkReports(body: Json): BounceReport[] {
  const record = str(body.RecordType);
  const email = str(body.Email);
  const eventId = `${record}:${str(body.ID)}`;
  if (!email || !str(body.ID)) return [];
  if (record === 'SpamComplaint' || str(body.Type) === 'SpamComplaint') return [{ provider: 'postmark', eventId, kind: 'complaint', email, detail: detail(body.Type) }];
  if (record !== 'Bounce') return [];
  const type = str(body.Type);
  // Postmark deactivates an address after a hard bounce; Inactive says it will not mail it again.
  const kind = POSTMARK_HARD.has(type) || (body.Inactive === true && !POSTMARK_SOFT.has(type)) ? 'hard_bounce' : POSTMARK_SOFT.has(type) ? 'soft_bounce' : null;
  return kind ? [{ provider: 'postmark', eventId, kind, email, detail: detail(type, body.Description, body.Details) }] : [];
}

/** Mailgun webhook `event-data`: failed (permanent = hard, temporary = soft) and complained. */
export function mailgunReports(eventData: Json): BounceReport[] {
  const event = str(eventData.event);
  const email = str(eventData.recipient);
  const eventId = str(eventData.id);
  if (!email || !eventId) return [];
  if (event === 'complained') return [{ provider: 'mailgun', eventId, kind: 'complaint', email }];
  if (event !== 'failed') return [];
  const status = obj(eventData['delivery-status']);
  const kind = str(eventData.severity) === 'permanent' ? 'hard_bounce' : 'soft_bounce';
  return [{ provider: 'mailgun', eventId, kind, email, detail: detail(eventData.reason, status.code, status.description || status.message) }];
}

/** SendGrid event webhook (an array): bounce (type bounce = hard, blocked = soft) and spamreport; deferred and dropped are not bounces. */
export function sendgridReports(events: unknown[]): BounceReport[] {
  return events.flatMap((e): BounceReport[] => {
    const ev = obj(e);
    const email = str(ev.email);
    const eventId = str(ev.sg_event_id);
    if (!email || !eventId) return [];
    if (ev.event === 'spamreport') return [{ provider: 'sendgrid', eventId, kind: 'complaint', email }];
    if (ev.event !== 'bounce') return [];
    const kind = str(ev.type) === 'blocked' ? 'soft_bounce' : 'hard_bounce';
    return [{ provider: 'sendgrid', eventId, kind, email, detail: detail(ev.status, ev.reason) }];
  });
}
