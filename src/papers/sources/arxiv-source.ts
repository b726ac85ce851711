import { InputError } from '../../errors.js';
import { parseArxivXml } from '../parsers/arxiv-atom.js';
import type { PaperInput } from '../paper-record.js';
import { FetchError, fetchText, type FetchOptions } from './http-fetch.js';

/** Fetches the newest submissions of one arXiv category from the API. */
export async function fetchArxivCategory(
  baseUrl: string,
  category: string,
  maxResults: number,
  opts: FetchOptions,
): Promise<PaperInput[]> {
  const query = new URLSearchParams({
    search_query: `cat:${category}`,
    sortBy: 'submittedDate',
    sortOrder: 'descending',
    start: '0',
    max_results: String(maxResults),
  });
  const url = `${baseUrl}/api/query?${query}`;
  const { status, body } = await fetchText(url, opts);
  if (status !== 200) throw new FetchError(`HTTP ${status} from ${url}${errorIn(body, url)}`, status, false);
  return parseArxivXml(body, url);
}

// The API explains a 400 in an Atom error entry ("incorrect id format for abc"): say what it says.
function errorIn(body: string, url: string): string {
  try {
    parseArxivXml(body, url);
    return '';
  } catch (err) {
    return err instanceof InputError ? `: ${err.reason}` : '';
  }
}
