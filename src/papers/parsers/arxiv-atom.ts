import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../../errors.js';
import { arxivUrls, parseArxivId, type PaperInput } from '../paper-record.js';

// Reads both the arXiv API (`/api/query`, Atom) and the arXiv listing feeds
// (rss.arxiv.org: RSS 2.0 or Atom with arxiv:announce_type). Replacements are
// skipped: they are papers announced before, not new ones.

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  isArray: (name) => ['entry', 'item', 'author', 'link', 'category', 'creator'].includes(name),
  processEntities: true,
  htmlEntities: true,
});

const asText = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return asText((v as Record<string, unknown>)['#text']);
  return String(v);
};
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const day = (s: string) => (/^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : s ? safeDay(s) : null);
function safeDay(s: string): string | null {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
}

/** Whether text looks like an arXiv Atom/RSS document. */
export function looksLikeArxivXml(text: string): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?<(feed|rss)\b/.test(text);
}

/** Parses an arXiv API or listing feed document into paper inputs. */
export function parseArxivXml(text: string, file: string): PaperInput[] {
  let doc: Record<string, any>;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new InputError(file, null, `not well-formed XML (${(err as Error).message.split('\n')[0]})`);
  }
  const entries: Record<string, any>[] = doc.feed?.entry ?? doc.rss?.channel?.item ?? doc['RDF']?.item ?? [];
  if (!doc.feed && !doc.rss && !doc['RDF']) throw new InputError(file, null, 'expected an Atom <feed> or RSS <rss> document');
  const out: PaperInput[] = [];
  entries.forEach((e, index) => {
    const announce = asText(e.announce_type);
    if (announce && announce.startsWith('replace')) return;
    const links: Record<string, any>[] = e.link ?? [];
    const rawId = asText(e.id) || asText(e.guid) || asText(links[0]?.['@href'] ?? e.link?.[0]);
    const arxivId = parseArxivId(rawId.replace(/^oai:arXiv\.org:/, '')) ?? parseArxivId(asText(links[0]?.['@href']));
    const title = squash(asText(e.title));
    if (!title) throw new InputError(file, `entry ${index + 1}`, 'title: missing');
    if (!arxivId) throw new InputError(file, `entry ${index + 1}`, `id: not an arXiv id (${rawId.slice(0, 80)})`);
    const authors = (e.author ?? []).map((a: any) => squash(asText(a.name ?? a))).filter(Boolean);
    const creators = (e.creator ?? []).flatMap((c: unknown) => asText(c).split(/,\s*/)).map(squash).filter(Boolean);
    const names: string[] = authors.length ? authors : creators;
    const summary = squash(asText(e.summary ?? e.description)).replace(/^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*/i, '');
    const categories = (e.category ?? []).map((c: any) => asText(c['@term'] ?? c)).filter(Boolean);
    out.push({
      arxivId,
      title,
      abstract: summary,
      authors: names,
      authorCount: names.length || null,
      organization: null,
      publishedAt: day(asText(e.published) || asText(e.pubDate)),
      listedOn: null,
      upvotes: 0,
      comments: 0,
      keywords: categories,
      urls: { ...arxivUrls(arxivId), code: null },
      source: 'arxiv',
    });
  });
  return out;
}
