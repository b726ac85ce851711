import { InputError } from '../../errors.js';
import { cleanPaper } from '../paper-clean.js';
import { arxivUrls, AUTHOR_RANK, parseArxivId, type PaperInput } from '../paper-record.js';
import { htmlToText, splitAuthors } from './author-list.js';
import { asText, day } from './xml-text.js';

// The old arXiv listing (export.arxiv.org/rss, RSS 1.0 / RDF, until 2024):
//   <title>Measurement of … (arXiv:1805.08875v1 [hep-ex])</title>
//   <description>&lt;p&gt;abstract&lt;/p&gt;</description>   (escaped HTML)
//   <dc:creator>&lt;a href=…&gt;Name&lt;/a&gt; (Affiliation), …</dc:creator>
// The title's suffix carries the version, the primary category and whether
// the item is a cross-list or an UPDATED (replaced) paper; the date is the
// channel's dc:date, items have none.

const SUFFIX = /\s*\(arXiv:(\S+?)\s+\[([^\]]+)\](?:\s+(CROSS LISTED|UPDATED))?\)\s*$/;
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Parses the items of an old RDF listing (already parsed XML). UPDATED items are skipped. */
export function parseArxivRdf(rdf: Record<string, any>, file: string): PaperInput[] {
  const items: Record<string, any>[] = rdf.item ?? [];
  const channel = rdf.channel ?? {};
  const listed = day(asText(channel.date));
  if (!items.length && /error|bad archive|bad category/i.test(asText(channel.title) + asText(channel.description))) {
    throw new InputError(file, null, `arXiv answered with an error: ${squash(asText(channel.description) || asText(channel.title))}`);
  }
  const out: PaperInput[] = [];
  items.forEach((item, index) => {
    const where = `entry ${index + 1}`;
    const rawTitle = squash(asText(item.title));
    const suffix = SUFFIX.exec(rawTitle);
    if (suffix?.[3] === 'UPDATED') return;
    const title = suffix ? rawTitle.slice(0, suffix.index).trim() : rawTitle;
    if (!title) throw new InputError(file, where, 'title: missing');
    const link = asText(item['@about']) || asText(item.link?.[0] ?? item.link);
    const arxivId = parseArxivId(suffix?.[1]) ?? parseArxivId(link);
    if (!arxivId) throw new InputError(file, where, `id: not an arXiv id (${link.slice(0, 80)})`);
    const { names, notShown } = splitAuthors(htmlToText((item.creator ?? []).map(asText).join(', ')));
    const paper: PaperInput = {
      arxivId,
      title,
      abstract: squash(htmlToText(asText(item.description))),
      authors: names,
      authorCount: names.length + notShown || null,
      organization: null,
      publishedAt: listed,
      listedOn: null,
      upvotes: 0,
      comments: 0,
      keywords: suffix ? [suffix[2]!] : [],
      urls: { ...arxivUrls(arxivId), code: null },
      source: 'arxiv',
      authorRank: AUTHOR_RANK['arxiv-rss'],
    };
    out.push(cleanPaper(paper, file, where));
  });
  return out;
}
