import { XMLParser } from 'fast-xml-parser';
import { InputError } from '../../errors.js';
import { cleanPaper } from '../paper-clean.js';
import { arxivUrls, AUTHOR_RANK, parseArxivId, type PaperInput } from '../paper-record.js';
import { parseArxivRdf } from './arxiv-rdf.js';
import { splitAuthors } from './author-list.js';
import { asText, day } from './xml-text.js';

// Reads the arXiv API (`/api/query`, Atom), the arXiv listing feeds
// (rss.arxiv.org: RSS 2.0 or Atom with arxiv:announce_type) and the old
// RSS 1.0 (RDF) listing. Replacements are skipped: they are papers announced
// before, not new ones. Error answers are refused, never read as an empty day.

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  isArray: (name) => ['entry', 'item', 'author', 'link', 'category', 'creator'].includes(name),
  processEntities: true,
  htmlEntities: true,
  // Values stay text: a title "0.50" or "1e3" is not a number, an id "0601001" keeps its zero.
  parseTagValue: false,
  parseAttributeValue: false,
});

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Whether text looks like an arXiv Atom/RSS document. */
export function looksLikeArxivXml(text: string): boolean {
  return /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<(feed|rss|rdf:RDF)\b/.test(text);
}

// The API answers a bad query with one entry titled "Error" whose id points
// at its errors page ("https://arxiv.org/api/errors#incorrect_id_format_for_abc").
function apiError(e: Record<string, any>): string | null {
  const id = asText(e.id);
  if (!/\/api\/errors\b/.test(id) && !(asText(e.title).trim() === 'Error' && !parseArxivId(id))) return null;
  return squash(asText(e.summary)) || id;
}

// A listing for a category that does not exist is a feed with no items and
// the complaint in its title or description ("Bad archive 'astroph'").
function feedError(channel: Record<string, any> | undefined): string | null {
  // An API answer with no results is titled after its query, which may say "error".
  if (!channel || /^arxiv query:/i.test(asText(channel.title).trim())) return null;
  const said = [asText(channel.description), asText(channel.subtitle), asText(channel.title)].map(squash).filter(Boolean);
  const complaint = said.find((s) => /\b(error|bad (archive|category)|invalid|not (a )?valid|unknown (archive|category))\b/i.test(s));
  return complaint ?? null;
}

/** Parses an arXiv API, listing feed or old RDF listing document into paper inputs. Throws InputError on error answers. */
export function parseArxivXml(text: string, file: string): PaperInput[] {
  let doc: Record<string, any>;
  try {
    doc = parser.parse(text, true);
  } catch (err) {
    throw new InputError(file, null, `not well-formed XML (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc['RDF']) return parseArxivRdf(doc['RDF'], file);
  if (!doc.feed && !doc.rss) throw new InputError(file, null, 'expected an Atom <feed> or RSS <rss> document');
  const entries: Record<string, any>[] = doc.feed?.entry ?? doc.rss?.channel?.item ?? [];
  if (!entries.length) {
    const complaint = feedError(doc.feed ?? doc.rss?.channel);
    if (complaint) throw new InputError(file, null, `arXiv answered with an error: ${complaint}`);
  }
  const out: PaperInput[] = [];
  entries.forEach((e, index) => {
    const where = `entry ${index + 1}`;
    const error = apiError(e);
    if (error) throw new InputError(file, where, `arXiv answered with an error: ${error}`);
    const announce = asText(e.announce_type);
    if (announce && announce.startsWith('replace')) return;
    const links: Record<string, any>[] = e.link ?? [];
    const rawId = asText(e.id) || asText(e.guid) || asText(links[0]?.['@href'] ?? e.link?.[0]);
    const arxivId = parseArxivId(rawId.replace(/^oai:arXiv\.org:/, '')) ?? parseArxivId(asText(links[0]?.['@href']));
    const title = squash(asText(e.title));
    if (!title) throw new InputError(file, where, 'title: missing');
    if (!arxivId) throw new InputError(file, where, `id: not an arXiv id (${rawId.slice(0, 80)})`);
    // The API lists <author> elements one by one; the listing feeds pack them into one dc:creator.
    const listed = (e.author ?? []).map((a: any) => squash(asText(a.name ?? a))).filter(Boolean);
    const packed = (e.creator ?? []).map((c: unknown) => splitAuthors(asText(c)));
    const names: string[] = listed.length ? listed : packed.flatMap((p: { names: string[] }) => p.names);
    const notShown = packed.reduce((n: number, p: { notShown: number }) => n + p.notShown, 0);
    const summary = squash(asText(e.summary ?? e.description)).replace(/^arXiv:\S+\s+Announce Type:\s*\S+\s*Abstract:\s*/i, '');
    const categories = (e.category ?? []).map((c: any) => asText(c['@term'] ?? c)).filter(Boolean);
    const paper: PaperInput = {
      arxivId,
      title,
      abstract: summary,
      authors: names,
      authorCount: names.length + notShown || null,
      organization: null,
      publishedAt: day(asText(e.published) || asText(e.pubDate)),
      listedOn: null,
      upvotes: 0,
      comments: 0,
      keywords: categories,
      urls: { ...arxivUrls(arxivId), code: null },
      source: 'arxiv',
      authorRank: listed.length ? AUTHOR_RANK['arxiv-api'] : AUTHOR_RANK['arxiv-rss'],
    };
    out.push(cleanPaper(paper, file, where));
  });
  return out;
}
