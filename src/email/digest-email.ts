import { createHmac } from 'node:crypto';
import type { RecentPaper } from '../digests/candidate-index.js';
import { readerLink, safeUrl } from '../papers/paper-record.js';
import type { LedgerItem } from '../digests/delivery-ledger.js';
import { localTime } from '../digests/schedule.js';
import type { Links } from '../subscribers/links.js';
import type { Subscriber } from '../subscribers/subscriber-repo.js';
import { describeInterests } from '../subscribers/topic-catalogue.js';
import type { FillBlock, RenderEmail } from './email-templates.js';
import { headerSafe, type OutgoingMail } from './mailer.js';

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ABSTRACT_WORDS = 60;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The first `n` words of a text, with an ellipsis when cut. */
export function trimWords(text: string, n: number): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ');
  return words.length <= n ? words.join(' ') : `${words.slice(0, n).join(' ').replace(/[,;:.]$/, '')} …`;
}

/** A text escaped once, with where each word is, so highlighting it for many readers is a few slices. */
export interface PreparedText {
  text: string;
  escaped: string;
  /** Match key (lower case, no diacritics) → [start, end) offsets of that word in `escaped`. */
  words: Map<string, number[]>;
}

/** Escapes a text once and indexes its words by match key. */
export function prepareText(text: string): PreparedText {
  const parts = text.split(/([\p{L}\p{N}]+)/u);
  const words = new Map<string, number[]>();
  let escaped = '';
  parts.forEach((part, i) => {
    const piece = escapeHtml(part);
    if (i % 2 === 1) {
      const key = /^[\x00-\x7f]*$/.test(part) ? part.toLowerCase() : part.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
      const at = words.get(key);
      if (at) at.push(escaped.length, escaped.length + piece.length);
      else words.set(key, [escaped.length, escaped.length + piece.length]);
    }
    escaped += piece;
  });
  return { text, escaped, words };
}

/** Escaped text with the words whose match keys are given wrapped in <mark>. */
export function highlight(text: string | PreparedText, keys: Iterable<string>): string {
  const t = typeof text === 'string' ? prepareText(text) : text;
  const spans: number[] = [];
  for (const key of keys) {
    const at = t.words.get(key);
    if (at) spans.push(...at);
  }
  if (!spans.length) return t.escaped;
  // Pairs of [start, end), sorted by start; words never overlap.
  const order = Array.from({ length: spans.length / 2 }, (_, i) => i).sort((a, b) => spans[2 * a]! - spans[2 * b]!);
  let out = '';
  let from = 0;
  for (const i of order) {
    const start = spans[2 * i]!;
    const end = spans[2 * i + 1]!;
    if (start < from) continue; // the same key given twice
    out += `${t.escaped.slice(from, start)}<mark>${t.escaped.slice(start, end)}</mark>`;
    from = end;
  }
  return out + t.escaped.slice(from);
}

/** "Ada Lovelace, Alan Turing, Grace Hopper et al." or the organisation or "8 authors". */
export function byline(p: Pick<RecentPaper, 'authors' | 'authorCount' | 'organization'>): string {
  if (p.organization) return p.organization;
  if (p.authors.length) return p.authors.length > 3 ? `${p.authors.slice(0, 3).join(', ')} et al.` : p.authors.join(', ');
  return p.authorCount ? `${p.authorCount} author${p.authorCount === 1 ? '' : 's'}` : '';
}

/** Deterministic per subscriber and period, so a resend after a crash is the same message. */
export function digestMessageId(secret: string, subscriberId: number, periodKey: string, domain: string): string {
  const tag = createHmac('sha256', secret).update(`message-id|${subscriberId}|${periodKey}`).digest('base64url').slice(0, 16);
  return `<digest.${periodKey}.${subscriberId}.${tag}@${domain}>`;
}

/** The interests papers matched most, for the subject line. */
function subjectTopics(items: { interests: string[] }[]): string {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.interests[0]!, (counts.get(i.interests[0]!) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([label]) => label);
  return top.join(' and ');
}

/** Everything a digest needs besides the papers. */
export interface DigestContext {
  render: RenderEmail;
  links: Links;
  listUnsubscribeMailto?: string;
  listIdDomain: string;
  /** Per-run cache of paper blocks: filled once per paper, with holes for what differs per reader. */
  blocks?: Map<number, PaperBlock>;
}

/** One paper's block with its trimmed abstract split for highlighting. */
export interface PaperBlock {
  abstract: PreparedText;
  fill: FillBlock;
}

function preparePaperBlock(ctx: DigestContext, p: RecentPaper): PaperBlock {
  const abstract = prepareText(trimWords(p.abstract, ABSTRACT_WORDS));
  const link = readerLink(p.urlPage, p.urlAbs, p.title);
  const fields = {
    title: p.title,
    url: link.url,
    byline: byline(p),
    upvotes: p.upvotes,
    published: p.publishedAt,
    abstractText: abstract.text,
    links: { page: safeUrl(p.urlPage), abs: safeUrl(p.urlAbs), pdf: safeUrl(p.urlPdf), code: safeUrl(p.urlCode), find: link.search ? link.url : null },
  };
  return { abstract, fill: ctx.render.blockWithHoles('digest', fields, ['abstractHtml', 'why']) };
}

/** One paper's block (HTML and text) for one reader: their highlighted words and why line. */
function paperBlock(ctx: DigestContext, item: DigestPaper): { html: string; text: string } {
  let block = ctx.blocks?.get(item.pk);
  if (!block) {
    block = preparePaperBlock(ctx, item.paper);
    ctx.blocks?.set(item.pk, block);
  }
  return block.fill({ abstractHtml: highlight(block.abstract, item.words), why: item.why });
}

/** A chosen paper with its stored explanation. */
export type DigestPaper = LedgerItem & { paper: RecentPaper };

/** Renders one subscriber's digest: subject, HTML and text, and the list headers RFC 8058 asks for. */
export function composeDigest(ctx: DigestContext, s: Subscriber, periodKey: string, papers: DigestPaper[], now: Date, messageId: string): OutgoingMail {
  const t = localTime(now, s.timezone);
  const dateLabel = `${WEEKDAYS[t.weekday]!.slice(0, 3)} ${t.day} ${MONTHS[t.month - 1]}`;
  const n = papers.length;
  const topics = subjectTopics(papers).replace(/[“”]/g, '');
  const subject = headerSafe(`${n} new paper${n === 1 ? '' : 's'} on ${topics} · ${dateLabel}`).slice(0, 200);
  const unsubscribeUrl = ctx.links.unsubscribeUrl(s);
  const data = {
    subject,
    heading: `${n} new paper${n === 1 ? '' : 's'} for you`,
    preview: papers.slice(0, 3).map((p) => p.paper.title).join(' · ').slice(0, 150),
    dateLabel,
    email: s.email,
    interests: describeInterests(s),
    scheduleLabel: s.frequency === 'weekly' ? `every ${WEEKDAYS[s.weekday]} at ${String(s.hour).padStart(2, '0')}:00 (${s.timezone})` : `daily at ${String(s.hour).padStart(2, '0')}:00 (${s.timezone})`,
    manageUrl: ctx.links.manageUrl(s),
    unsubscribeUrl,
    viewUrl: ctx.links.digestUrl(s, periodKey),
  };
  // Concatenated, not joined: V8 keeps the pieces as a rope that is flattened once, when encoded.
  const papersBlock = { html: '', text: '' };
  for (const item of papers) {
    const block = paperBlock(ctx, item);
    papersBlock.html += block.html;
    papersBlock.text += block.text;
  }
  const body = ctx.render('digest', { ...data, papersBlock });
  const listUnsubscribe = [`<${unsubscribeUrl}>`, ...(ctx.listUnsubscribeMailto ? [`<mailto:${ctx.listUnsubscribeMailto}?subject=unsubscribe>`] : [])].join(', ');
  return {
    to: s.email,
    subject,
    ...body,
    messageId,
    headers: {
      'List-Unsubscribe': listUnsubscribe,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `Paperboy digest <digest.${ctx.listIdDomain}>`,
      'X-Paperboy-Period': periodKey,
    },
  };
}
