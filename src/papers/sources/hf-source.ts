import { parseHfDaily } from '../parsers/hf-daily.js';
import type { PaperInput } from '../paper-record.js';
import { FetchError, fetchText, type FetchOptions } from './http-fetch.js';

/** The latest complete day (UTC) of Daily Papers: yesterday. */
export function latestCompleteDay(now: Date): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

/** Fetches the Daily Papers list of one date. A date with no list yet (HTTP 400) is empty. */
export async function fetchHfDaily(baseUrl: string, date: string, opts: FetchOptions): Promise<PaperInput[]> {
  const url = `${baseUrl}/api/daily_papers?date=${encodeURIComponent(date)}`;
  const { status, body } = await fetchText(url, opts);
  if (status === 400) return [];
  if (status !== 200) throw new FetchError(`HTTP ${status} from ${url}`, status, false);
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new FetchError(`${url}: answer is not JSON`, status, false);
  }
  return parseHfDaily(data, url);
}
