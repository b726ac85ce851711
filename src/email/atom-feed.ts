// A reader's Atom feed (RFC 4287) of the papers their digests carried: one
// entry per paper per issue, with its why line. Written by hand: the format is
// small, and every value goes through xmlText(), which escapes markup and drops
// what XML 1.0 cannot carry.
import { createHash } from 'node:crypto';
import type { RecentPaper } from '../digests/candidate-index.js';
import type { LedgerItem } from '../digests/delivery-ledger.js';
import { readerLink, safeUrl } from '../papers/paper-record.js';
import { byline, paperMeta } from './digest-email.js';
import { escapeHtml, trimWords } from './excerpt.js';

// Characters XML 1.0 does not allow (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe inside an XML element or a double-quoted attribute. */
export function xmlText(s: string): string {
  return s.replace(NOT_XML, '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** One sent issue as the feed needs it. */
export interface FeedIssue {
  periodKey: string;
  sentAt: string;
  papers: (LedgerItem & { paper: RecentPaper })[];
}

/** What the feed says about itself. */
export interface FeedHead {
  /** The feed's own URL (rel="self"). */
  selfUrl: string;
  siteUrl: string;
  /** Stable per reader and never their address: the feed's id is derived from it. */
  readerKey: string;
  interests: string;
  now: Date;
}

const el = (name: string, value: string, attrs = '') => `<${name}${attrs}>${xmlText(value)}</${name}>`;

/** The Atom document: newest issue first. */
export function atomFeed(head: FeedHead, issues: FeedIssue[]): string {
  const host = new URL(head.siteUrl).host;
  const feedTag = createHash('sha256').update(`paperboy-feed|${head.readerKey}`).digest('hex').slice(0, 20);
  const updated = issues[0]?.sentAt ?? head.now.toISOString();
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    el('title', 'Paperboy: papers picked for you'),
    el('subtitle', `The papers of your Paperboy digests, picked for ${head.interests}.`),
    el('id', `tag:${host},2026:feed/${feedTag}`),
    el('updated', updated),
    `<link rel="self" type="application/atom+xml" href="${xmlText(head.selfUrl)}"/>`,
    `<link rel="alternate" type="text/html" href="${xmlText(head.siteUrl)}"/>`,
    `<author>${el('name', 'Paperboy')}</author>`,
    el('generator', 'Paperboy'),
  ];
  for (const issue of issues) {
    for (const item of issue.papers) {
      const p = item.paper;
      const link = readerLink(p.urlPage, p.urlAbs, p.title).url;
      const { meta, age } = paperMeta(p);
      const html = [
        `<p><strong>Why:</strong> ${escapeHtml(item.why)}</p>`,
        meta || age ? `<p>${escapeHtml([meta, age].filter(Boolean).join(' · '))}</p>` : '',
        `<p>${escapeHtml(trimWords(p.abstract, 120))}</p>`,
        [safeUrl(p.urlPdf) && `<a href="${escapeHtml(safeUrl(p.urlPdf)!)}">PDF</a>`, safeUrl(p.urlCode) && `<a href="${escapeHtml(safeUrl(p.urlCode)!)}">Code</a>`].filter(Boolean).join(' · '),
      ].join('');
      out.push(
        '<entry>',
        el('title', p.title),
        el('id', `tag:${host},2026:feed/${feedTag}/${encodeURIComponent(issue.periodKey)}/${encodeURIComponent(p.id)}`),
        `<link rel="alternate" type="text/html" href="${xmlText(link)}"/>`,
        el('updated', issue.sentAt),
        ...(p.authors.length || p.organization ? [`<author>${el('name', byline(p))}</author>`] : []),
        el('summary', item.why),
        el('content', html, ' type="html"'),
        ...item.interests.map((i) => `<category term="${xmlText(i)}"/>`),
        '</entry>',
      );
    }
  }
  out.push('</feed>');
  return out.join('\n');
}
