// Text as feeds deliver it → text as readers and matchers see it. arXiv
// metadata is written in TeX ("Schr\"odinger", "R\'emy", "\&"): it is decoded
// to the Unicode it means, outside math ($…$), which stays as written.

// Letters Unicode does not decompose into base + mark. SQLite's unicode61
// tokenizer (remove_diacritics 2) folds only base + mark ("ö" → "o"), not
// these, so for them search needs the exact letter while digest matching,
// which only decides among FTS5's candidates, is a little more forgiving.
const FOLD: Record<string, string> = { ø: 'o', Ø: 'O', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ħ: 'h', Ħ: 'H', ı: 'i' };
const FOLD_RE = new RegExp(`[${Object.keys(FOLD).join('')}]`, 'g');

/** The text without diacritics ("Schrödinger" → "Schrodinger", "Łukasz" → "Lukasz"); case is kept. */
export function foldDiacritics(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(FOLD_RE, (c) => FOLD[c]!);
}

// Control characters (C0 except tab/newline, DEL, C1) and bidirectional
// overrides, which can make stored text render as something else.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

/** The text without control characters (a carriage return becomes a line break). */
export function stripControl(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

const SYMBOL_ACCENTS: Record<string, string> = {
  "'": '\u0301', '`': '\u0300', '^': '\u0302', '"': '\u0308', '~': '\u0303', '=': '\u0304', '.': '\u0307',
};
const LETTER_ACCENTS: Record<string, string> = {
  c: '\u0327', v: '\u030C', u: '\u0306', H: '\u030B', k: '\u0328', r: '\u030A', d: '\u0323', b: '\u0331',
};
const SPECIAL: Record<string, string> = {
  ss: 'ß', o: 'ø', O: 'Ø', l: 'ł', L: 'Ł', aa: 'å', AA: 'Å', ae: 'æ', AE: 'Æ', oe: 'œ', OE: 'Œ', i: 'ı', j: 'ȷ',
};
const ESCAPES: Record<string, string> = { '&': '&', '%': '%', _: '_', '#': '#', '{': '{', '}': '}' };

const BASE = String.raw`(?:\\[ij](?![A-Za-z])|[A-Za-z])`;
// \"o  \"{o}  \' e  \c{c}  \c c  \v{s}
const ACCENT = new RegExp(
  String.raw`\\(?:([\x27\x60^"~=.])\s*|([cvuHkrdb])(?:\s+|(?=\{)))(?:\{(${BASE})\}|(${BASE}))`,
  'g',
);
// A control word ends at "{}" or eats one space: "Stra\\ss e", "Gro\\ss{} und".
const SPECIAL_RE = /\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])(?:\{\}|[ \t])?/g;

function decodeSegment(text: string): string {
  return text
    .replace(ACCENT, (_m, sym: string | undefined, letter: string | undefined, braced?: string, bare?: string) => {
      const base = (braced ?? bare)!.replace(/^\\([ij])$/, '$1');
      return base + (sym ? SYMBOL_ACCENTS[sym]! : LETTER_ACCENTS[letter!]!);
    })
    .replace(SPECIAL_RE, (_m, name: string) => SPECIAL[name]!)
    .replace(/\\([&%_#{}])/g, (_m, c: string) => ESCAPES[c]!)
    // "{\"o}" → "{ö}" → "ö": braces that only grouped one accented letter.
    .replace(/\{(\p{L}\p{M}*)\}/gu, (m, letter: string) => (/\p{M}|[ßøØłŁåÅæÆœŒıȷ]/u.test(letter) ? letter : m))
    .normalize('NFC');
}

/**
 * TeX accents and escapes decoded to Unicode (Schr\"odinger → Schrödinger,
 * R\'emy → Rémy, \c{c} → ç, {\ss} → ß, \& → &); math between $…$, $$…$$,
 * \(…\) and \[…\] is left as written, and so is any command not listed.
 */
export function decodeTex(text: string): string {
  if (!text.includes('\\')) return text;
  // An escaped dollar is text, not a math delimiter.
  const DOLLAR = '\u0000';
  const masked = text.replace(/\\\$/g, DOLLAR);
  const out: string[] = [];
  const math = /\$\$[\s\S]*?\$\$|\$[^$]*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g;
  let last = 0;
  for (let m = math.exec(masked); m; m = math.exec(masked)) {
    out.push(decodeSegment(masked.slice(last, m.index)), m[0]);
    last = m.index + m[0].length;
  }
  out.push(decodeSegment(masked.slice(last)));
  return out.join('').replace(/\u0000/g, '$');
}
