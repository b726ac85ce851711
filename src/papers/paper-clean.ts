import { InputError } from '../errors.js';
import type { PaperInput } from './paper-record.js';
import { decodeTex, stripControl } from './text-normalise.js';

/** Longest accepted fields. A longer title, abstract or name is refused; a longer author list is cut. */
export const LIMITS = { title: 1000, abstract: 20000, name: 300, authors: 2000, keyword: 200, keywords: 200 } as const;

const oneLine = (s: string) => decodeTex(stripControl(s)).replace(/\s+/g, ' ').trim();

function limit(value: string, max: number, file: string, where: string, field: string): string {
  if (value.length > max) throw new InputError(file, where, `${field}: longer than ${max} characters (${value.length})`);
  return value;
}

/**
 * One parsed paper as it is stored: control characters removed, TeX decoded,
 * whitespace settled, lengths checked (InputError naming file, entry and field).
 * Author lists longer than LIMITS.authors keep their first names and the true count.
 */
export function cleanPaper(input: PaperInput, file: string, where: string): PaperInput {
  const title = limit(oneLine(input.title), LIMITS.title, file, where, 'title');
  if (!title) throw new InputError(file, where, 'title: missing');
  const abstract = limit(decodeTex(stripControl(input.abstract)).trim(), LIMITS.abstract, file, where, 'abstract');
  // "~" is TeX's unbreakable space ("P.~G.~L. Dirichlet"); names carry no URLs.
  const names = input.authors.map((a) => oneLine(a.replace(/~/g, ' '))).filter(Boolean);
  names.forEach((n, i) => limit(n, LIMITS.name, file, where, `authors.${i}`));
  const authors = names.slice(0, LIMITS.authors);
  const authorCount = names.length > LIMITS.authors ? Math.max(input.authorCount ?? 0, names.length) : input.authorCount;
  const organization = input.organization === null ? null : limit(oneLine(input.organization), LIMITS.name, file, where, 'organization') || null;
  const keywords = input.keywords.map((k) => oneLine(k)).filter(Boolean).slice(0, LIMITS.keywords);
  keywords.forEach((k, i) => limit(k, LIMITS.keyword, file, where, `keywords.${i}`));
  return { ...input, title, abstract, authors, authorCount, organization, keywords };
}
