// Turns untrusted user text into FTS5 MATCH syntax that can never raise an
// SQL error: every term is emitted as a double-quoted string, so operators,
// stars, parentheses and column filters in the input are just characters.

/** One search term: a single word or a multi-word phrase. */
export interface Term {
  text: string;
  phrase: boolean;
  prefix: boolean;
}

const WORD = /[\p{L}\p{N}]+(?:['’.\-+][\p{L}\p{N}]+)*/gu;

/** Splits user text into terms: "quoted phrases" stay together, the rest are words. */
export function parseTerms(input: string): Term[] {
  const terms: Term[] = [];
  const quoteRe = /"([^"]*)"?/g;
  let rest = '';
  let last = 0;
  for (let m = quoteRe.exec(input); m; m = quoteRe.exec(input)) {
    rest += ` ${input.slice(last, m.index)}`;
    last = m.index + m[0].length;
    const words = m[1]!.match(WORD) ?? [];
    if (words.length) terms.push({ text: words.join(' '), phrase: words.length > 1, prefix: false });
  }
  rest += ` ${input.slice(last)}`;
  for (const m of rest.matchAll(/([\p{L}\p{N}]+(?:['’.\-+][\p{L}\p{N}]+)*)(\*)?/gu)) {
    terms.push({ text: m[1]!, phrase: false, prefix: Boolean(m[2]) });
  }
  return terms;
}

/** A keyword or phrase ("sparse autoencoders", "llm-as-a-judge") as one FTS5 phrase. */
export function phrase(text: string, prefix = false): string | null {
  const words = text.match(WORD);
  if (!words) return null;
  // Hyphens and dots split tokens in unicode61 anyway; a phrase keeps them adjacent.
  const tokens = words.flatMap((w) => w.split(/['’.\-+]/)).filter(Boolean);
  return `"${tokens.join(' ').replace(/"/g, '""')}"${prefix ? '*' : ''}`;
}

/** FTS5 expression matching any of the terms (null when the input has no words). */
export function anyOf(terms: Term[]): string | null {
  const parts = terms.map((t) => phrase(t.text, t.prefix)).filter((p): p is string => p !== null);
  return parts.length ? parts.join(' OR ') : null;
}

/** FTS5 expression matching all of the terms (null when the input has no words). */
export function allOf(terms: Term[]): string | null {
  const parts = terms.map((t) => phrase(t.text, t.prefix)).filter((p): p is string => p !== null);
  return parts.length ? parts.join(' AND ') : null;
}

/**
 * The same terms as a PostgreSQL tsquery expression over `?` parameters (null
 * when the input has no words), in the paperboy_english configuration of
 * migrations/postgres (English stems, accents folded) that papers.search uses. Words and phrases go through
 * websearch_to_tsquery, which never raises on odd input; a prefix term
 * ("graph*") is letters and digits only, so to_tsquery can parse it.
 */
export function tsqueryOf(terms: Term[], all: boolean): { sql: string; params: string[] } | null {
  const parts: string[] = [];
  const params: string[] = [];
  for (const t of terms) {
    const words = t.text.match(WORD);
    if (!words) continue;
    if (t.prefix) {
      const tokens = words.flatMap((w) => w.split(/[^\p{L}\p{N}]+/u)).filter(Boolean);
      if (!tokens.length) continue;
      parts.push("to_tsquery('paperboy_english', ?)");
      params.push(`${tokens.join(' <-> ')}:*`);
    } else {
      parts.push("websearch_to_tsquery('paperboy_english', ?)");
      params.push(`"${words.join(' ')}"`);
    }
  }
  return parts.length ? { sql: `(${parts.join(all ? ' && ' : ' || ')})`, params } : null;
}
