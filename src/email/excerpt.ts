// Escaping, highlighting and excerpts of paper text. A text is prepared once
// per run (escaped, its words indexed); each reader then costs a few slices.

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
  /** Match key (lower case, no diacritics) → indices of that word's tokens. */
  words: Map<string, number[]>;
  /** Per token: [start, end) in `escaped`, [start, end) in `text`, its key. */
  at: number[];
  raw: number[];
  keys: string[];
  /** Per token: whether only spaces or hyphens separate it from the next (words of one phrase). */
  joined: boolean[];
  /** Per token: whether the separator after it holds a hyphen ("text-to-image"). */
  hyphen: boolean[];
}

const matchKey = (w: string) => (/^[\x00-\x7f]*$/.test(w) ? w.toLowerCase() : w.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase());

/** Escapes a text once and indexes its words by match key. */
export function prepareText(text: string): PreparedText {
  const parts = text.split(/([\p{L}\p{N}]+)/u);
  const t: PreparedText = { text, escaped: '', words: new Map(), at: [], raw: [], keys: [], joined: [], hyphen: [] };
  let rawAt = 0;
  parts.forEach((part, i) => {
    const piece = escapeHtml(part);
    if (i % 2 === 1) {
      const key = matchKey(part);
      const n = t.keys.length;
      const list = t.words.get(key);
      if (list) list.push(n);
      else t.words.set(key, [n]);
      t.at.push(t.escaped.length, t.escaped.length + piece.length);
      t.raw.push(rawAt, rawAt + part.length);
      t.keys.push(key);
    } else if (i > 0) {
      t.joined.push(/^[\s\-‐–]+$/.test(part));
      t.hyphen.push(/[-‐]/.test(part));
    }
    t.escaped += piece;
    rawAt += part.length;
  });
  return t;
}

/** Tells whether a word (match key) is so common that it is not worth marking on its own. */
export type IsCommon = (key: string) => boolean;

/**
 * Which tokens to mark: a word of the reader's that stands next to another
 * (a phrase: "sparse autoencoders", "text-to-image" across its little "to"),
 * or one standing alone that is not a common word. "learning" of a matched
 * "reinforcement learning" is not lit up wherever it appears.
 * Returns [first, last] token pairs, one per marked span.
 */
function markedSpans(t: PreparedText, keys: Iterable<string>, common?: IsCommon): number[] {
  const keyed = new Set<number>();
  for (const key of keys) for (const i of t.words.get(key) ?? []) keyed.add(i);
  if (!keyed.size) return [];
  const order = [...keyed].sort((a, b) => a - b);
  // The token after i that continues a phrase with it: the next word, or the one after a short hyphenated word.
  const next = (i: number) => {
    if (!t.joined[i]) return -1;
    if (keyed.has(i + 1)) return i + 1;
    if (t.hyphen[i] && t.joined[i + 1] && t.hyphen[i + 1] && t.keys[i + 1]!.length <= 3 && keyed.has(i + 2)) return i + 2;
    return -1;
  };
  const spans: number[] = [];
  let k = 0;
  while (k < order.length) {
    const first = order[k]!;
    let last = first;
    for (let n = next(last); n >= 0; n = next(last)) last = n;
    while (k < order.length && order[k]! <= last) k++;
    if (last > first || !common?.(t.keys[first]!)) spans.push(first, last);
  }
  return spans;
}

/** Escaped tokens [from, to] (inclusive) with the given spans marked. */
function markRange(t: PreparedText, spans: number[], from: number, to: number): string {
  if (to < from) return '';
  let out = '';
  let pos = t.at[2 * from]!;
  for (let s = 0; s < spans.length; s += 2) {
    const a = spans[s]!;
    const b = spans[s + 1]!;
    if (b < from || a > to) continue;
    const start = t.at[2 * Math.max(a, from)]!;
    const end = t.at[2 * Math.min(b, to) + 1]!;
    out += `${t.escaped.slice(pos, start)}<mark>${t.escaped.slice(start, end)}</mark>`;
    pos = end;
  }
  return out + t.escaped.slice(pos, t.at[2 * to + 1]!);
}

/** Escaped text with the reader's words marked (whole phrases; common words only inside one). */
export function highlight(text: string | PreparedText, keys: Iterable<string>, common?: IsCommon): string {
  const t = typeof text === 'string' ? prepareText(text) : text;
  const n = t.keys.length;
  if (!n) return t.escaped;
  const spans = markedSpans(t, keys, common);
  if (!spans.length) return t.escaped;
  return t.escaped.slice(0, t.at[0]) + markRange(t, spans, 0, n - 1) + t.escaped.slice(t.at[2 * n - 1]);
}

/**
 * About `words` words of the text around where the reader's words first stand
 * (from the start when none do), marked, with ellipses where cut. HTML and plain text.
 */
export function excerpt(t: PreparedText, keys: Iterable<string>, words: number, common?: IsCommon): { html: string; text: string } {
  const n = t.keys.length;
  if (!n) return { html: t.escaped, text: t.text };
  const spans = markedSpans(t, keys, common);
  let from = 0;
  if (spans.length && spans[0]! > words / 3) {
    // Start at the sentence holding the first match when it is close, else a few words before it.
    from = Math.max(0, spans[0]! - 5);
    for (let i = spans[0]!; i > Math.max(0, spans[0]! - 12); i--) {
      if (/[.!?]\s+$/.test(t.text.slice(t.raw[2 * (i - 1) + 1]!, t.raw[2 * i]!))) {
        from = i;
        break;
      }
    }
  }
  let to = Math.min(n - 1, from + words - 1);
  if (to === n - 1) from = Math.max(0, n - words);
  const head = from > 0 ? '… ' : t.escaped.slice(0, t.at[0]);
  const tail = to < n - 1 ? ' …' : t.escaped.slice(t.at[2 * n - 1]);
  const rawHead = from > 0 ? '… ' : t.text.slice(0, t.raw[0]);
  const rawTail = to < n - 1 ? ' …' : t.text.slice(t.raw[2 * n - 1]);
  return {
    html: head + markRange(t, spans, from, to) + tail,
    text: rawHead + t.text.slice(t.raw[2 * from]!, t.raw[2 * to + 1]!) + rawTail,
  };
}
