import { createHmac } from 'node:crypto';
import type { RecentPaper } from '../digests/candidate-index.js';
import { readerLink, safeUrl } from '../papers/paper-record.js';
import type { LedgerItem } from '../digests/delivery-ledger.js';
import { localTime } from '../digests/schedule.js';
import type { Links } from '../subscribers/links.js';
import type { Subscriber } from '../subscribers/subscriber-repo.js';
import { describeInterests } from '../subscribers/topic-catalogue.js';
import type { CorpusStats } from '../digests/corpus-stats.js';
import { trendingAgain } from '../digests/rank.js';
import { stem } from '../digests/term-match.js';
import type { FillBlock, RenderEmail } from './email-templates.js';
import { escapeHtml, excerpt, prepareText, type IsCommon, type PreparedText } from './excerpt.js';
import { headerSafe, type OutgoingMail } from './mailer.js';

export { escapeHtml, highlight, prepareText, trimWords, type PreparedText } from './excerpt.js';

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Words of abstract per paper: two or three lines on a phone, around where the match is. */
const EXCERPT_WORDS = 18;
/** A subject line that mail apps show whole. */
const SUBJECT_MAX = 80;

/** "Ada Lovelace, Alan Turing, Grace Hopper et al." or the organisation or "8 authors". */
export function byline(p: Pick<RecentPaper, 'authors' | 'authorCount' | 'organization'>): string {
  if (p.organization) return p.organization;
  if (p.authors.length) return p.authors.length > 3 ? `${p.authors.slice(0, 3).join(', ')} et al.` : p.authors.join(', ');
  return p.authorCount ? `${p.authorCount} author${p.authorCount === 1 ? '' : 's'}` : '';
}

/**
 * Deterministic per subscriber and period, so a resend after a crash is the same message. The
 * subscriber is in the HMAC only: a reader's headers do not show their row id (nor how many readers there are).
 */
export function digestMessageId(secret: string, subscriberId: number, periodKey: string, domain: string): string {
  const tag = createHmac('sha256', secret).update(`message-id|${subscriberId}|${periodKey}`).digest('base64url').slice(0, 22);
  return `<digest.${periodKey}.${tag}@${domain}>`;
}

/** "Top paper title + 9 more · Tue 24 Nov", the title cut at a word so the whole stays within SUBJECT_MAX. */
export function digestSubject(topTitle: string, more: number, dateLabel: string): string {
  const tail = `${more ? ` + ${more} more` : ''} · ${dateLabel}`;
  const room = SUBJECT_MAX - tail.length;
  const title = topTitle.replace(/\s+/g, ' ').trim();
  if (title.length <= room) return title + tail;
  const cut = title.slice(0, room - 1);
  const atWord = cut.lastIndexOf(' ');
  return `${(atWord > room / 2 ? cut.slice(0, atWord) : cut).replace(/[\s,;:.–-]+$/, '')}…${tail}`;
}

/** Everything a digest needs besides the papers. */
export interface DigestContext {
  render: RenderEmail;
  links: Links;
  listUnsubscribeMailto?: string;
  listIdDomain: string;
  /** Per-run cache of paper blocks: filled once per paper, with holes for what differs per reader. */
  blocks?: Map<number, PaperBlock>;
  /** Corpus statistics (which words are too common to mark alone): a run's candidate index has them. */
  stats?: CorpusStats;
  /** Per-run cache of the common-word test. */
  common?: IsCommon;
}

/** One paper's block with its abstract prepared for excerpts. */
export interface PaperBlock {
  abstract: PreparedText;
  /** The linked title as an item of the list at the top (HTML), and the plain title. */
  tocHtml: string;
  title: string;
  fill: FillBlock;
  archiveFill: FillBlock;
  /** Excerpts by the words they centre on: readers with the same interest share them within a run. */
  excerpts: Map<string, { html: string; text: string }>;
}

/** A word in more than 15% of papers ("learning", "model") is only marked inside a phrase, as the matcher does. */
function commonWords(ctx: DigestContext): IsCommon | undefined {
  if (ctx.common || !ctx.stats) return ctx.common;
  const { stats } = ctx;
  const cache = new Map<string, boolean>();
  ctx.common = (key) => {
    let c = cache.get(key);
    if (c === undefined) cache.set(key, (c = stats.size >= 20 && stats.df(stem(key)) > 0.15 * stats.size));
    return c;
  };
  return ctx.common;
}

/** Byline and upvotes ("" when there is neither: no empty meta line), and the age label of an old paper. */
export function paperMeta(p: RecentPaper): { meta: string; age: string } {
  const year = trendingAgain(p);
  const parts = [byline(p), p.upvotes ? `▲ ${p.upvotes}` : '', year === null && p.publishedAt ? p.publishedAt : ''].filter(Boolean);
  return { meta: parts.join(' · '), age: year === null ? '' : `${year} · trending again` };
}

function preparePaperBlock(ctx: DigestContext, p: RecentPaper): PaperBlock {
  const link = readerLink(p.urlPage, p.urlAbs, p.title);
  let archiveFill: FillBlock | undefined;
  const fields = {
    pk: p.pk,
    title: p.title,
    // A feedback link is the reader's base (a hole) then this paper's part.
    feedbackPath: `/${encodeURIComponent(p.id)}`,
    url: link.url,
    absLabel: link.search ? 'Find on arXiv' : 'Full abstract',
    ...paperMeta(p),
    links: { page: safeUrl(p.urlPage), abs: safeUrl(p.urlAbs), pdf: safeUrl(p.urlPdf), code: safeUrl(p.urlCode), find: link.search ? link.url : null },
  };
  return {
    abstract: prepareText(p.abstract.replace(/\s+/g, ' ').trim()),
    // Inline styles: this list is filled in after MJML inlined the stylesheet. One line per title on any screen.
    tocHtml: `<li style="margin:0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis"><a href="#p${p.pk}" style="color:#1d2330;text-decoration:none">${escapeHtml(p.title)}</a></li>`,
    title: p.title,
    fill: ctx.render.blockWithHoles('digest', fields, ['excerptHtml', 'excerptText', 'why', 'feedbackBase']),
    // The web copy's block has no feedback links (rarely needed: made on first use).
    archiveFill: (values) => (archiveFill ??= ctx.render.blockWithHoles('digest', { ...fields, feedbackBase: '' }, ['excerptHtml', 'excerptText', 'why']))(values),
    excerpts: new Map(),
  };
}

type Excerpt = { html: string; text: string };
// Readers of one interest share its hit's list of words (one paper's): their excerpt is found by the
// list itself. Lists made for one reader (several interests) die with it, and so do their entries.
const excerptsByList = new WeakMap<string[], { ctx: DigestContext; pk: number; cut: Excerpt }>();

/** The excerpt of a paper around a reader's words, cached per run. */
function excerptFor(ctx: DigestContext, block: PaperBlock, pk: number, words: string[]): Excerpt {
  const known = excerptsByList.get(words);
  if (known && known.ctx === ctx && known.pk === pk) return known.cut;
  const key = words.join('\u0000');
  let cut = block.excerpts.get(key);
  if (cut) return cut;
  cut = excerpt(block.abstract, words, EXCERPT_WORDS, commonWords(ctx));
  if (block.excerpts.size < 256) block.excerpts.set(key, cut);
  // Remembered by list only when first made: a list made for one reader's several interests is rarely
  // the first with its words, and remembering every such list (a WeakMap entry each) cost more than it saved.
  excerptsByList.set(words, { ctx, pk, cut });
  return cut;
}

/** One paper's block (HTML and text) for one reader, added to `out`: their excerpt, why line and feedback links (none in the web copy). */
function addPaperBlock(out: { html: string; text: string }, ctx: DigestContext, item: DigestPaper, feedbackBase: string | null): PaperBlock {
  let block = ctx.blocks?.get(item.pk);
  if (!block) {
    block = preparePaperBlock(ctx, item.paper);
    ctx.blocks?.set(item.pk, block);
  }
  const cut = excerptFor(ctx, block, item.pk, item.words);
  const filled = feedbackBase === null
    ? block.archiveFill({ excerptHtml: cut.html, excerptText: cut.text, why: item.why })
    : block.fill({ excerptHtml: cut.html, excerptText: cut.text, why: item.why, feedbackBase });
  out.html += filled.html;
  out.text += filled.text;
  return block;
}

// Every mailed digest has the same sections (personal links, a schedule): the message around the
// papers is rendered once per process with holes, and each digest fills them in.
const SHELL_HOLES = ['subject', 'heading', 'preview', 'dateLabel', 'interests', 'scheduleLabel', 'tocHtml', 'tocText', 'papersHtml', 'papersText', 'email', 'manageUrl', 'unsubscribeUrl', 'viewUrl', 'feedUrl'];
const shells = new WeakMap<RenderEmail, FillBlock>();
function mailShell(render: RenderEmail): FillBlock {
  let shell = shells.get(render);
  if (!shell) shells.set(render, (shell = render.shellWithHoles('digest', { archive: false }, SHELL_HOLES)));
  return shell;
}

/** A chosen paper with its stored explanation. */
export type DigestPaper = LedgerItem & { paper: RecentPaper };

/** The preferences a digest was picked for, as stored with it (the archive shows these, not today's). */
export type SentPreferences = Pick<Subscriber, 'topics' | 'keywords' | 'exclude' | 'frequency' | 'weekday' | 'hour' | 'timezone' | 'maxPapers'>;

/** How a digest is shown: as mailed (personal links), or as its web copy (none; its own date and preferences). */
export type DigestView = { archive: false } | { archive: true; sentAt: Date; prefs: SentPreferences | null };

const scheduleLabel = (p: SentPreferences) => {
  const at = `${String(p.hour).padStart(2, '0')}:00 (${p.timezone})`;
  return p.frequency === 'weekly' ? `every ${WEEKDAYS[p.weekday]} at ${at}` : `daily at ${at}`;
};

/** Renders one subscriber's digest: subject, HTML and text, and the list headers RFC 8058 asks for. */
export function composeDigest(ctx: DigestContext, s: Subscriber, periodKey: string, papers: DigestPaper[], now: Date, messageId: string, view: DigestView = { archive: false }): OutgoingMail {
  const prefs: SentPreferences | null = view.archive ? view.prefs : s;
  const t = localTime(view.archive ? view.sentAt : now, prefs?.timezone ?? s.timezone);
  const dateLabel = `${WEEKDAYS[t.weekday]!.slice(0, 3)} ${t.day} ${MONTHS[t.month - 1]}${view.archive ? ` ${t.year}` : ''}`;
  const n = papers.length;
  const subject = headerSafe(n ? digestSubject(papers[0]!.paper.title, n - 1, dateLabel) : `Paperboy · ${dateLabel}`);
  const unsubscribeUrl = ctx.links.unsubscribeUrl(s);
  // Concatenated, not joined: V8 keeps the pieces as a rope that is flattened once, when encoded.
  const papersBlock = { html: '', text: '' };
  // The digest's feedback links share one signature; the web copy has none.
  const feedbackBase = view.archive ? null : ctx.links.digestFeedbackBase(s, periodKey);
  let tocHtml = '';
  let tocText = 'In this issue:';
  papers.forEach((item, i) => {
    const block = addPaperBlock(papersBlock, ctx, item, feedbackBase);
    tocHtml += block.tocHtml;
    tocText += `\n ${i + 1}. ${block.title}`;
  });
  const data = {
    subject,
    heading: `${n} paper${n === 1 ? '' : 's'}`,
    preview: [papers[0]?.why ?? '', ...papers.slice(1, 4).map((p) => p.paper.title)].filter(Boolean).join(' · ').slice(0, 150),
    dateLabel,
    interests: prefs ? describeInterests(prefs) : 'preferences not recorded with this issue',
    scheduleLabel: prefs ? scheduleLabel(prefs) : '',
    tocHtml,
    tocText,
  };
  const body = view.archive
    ? ctx.render('digest', { ...data, archive: true, papersBlock })
    : mailShell(ctx.render)({ ...data, papersHtml: papersBlock.html, papersText: papersBlock.text, email: s.email, manageUrl: ctx.links.manageUrl(s), unsubscribeUrl, viewUrl: ctx.links.digestUrl(s, periodKey), feedUrl: ctx.links.feedUrl(s) });
  const listUnsubscribe = [`<${unsubscribeUrl}>`, ...(ctx.listUnsubscribeMailto ? [`<mailto:${ctx.listUnsubscribeMailto}?subject=unsubscribe>`] : [])].join(', ');
  return {
    to: s.email,
    subscriberId: s.id,
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
