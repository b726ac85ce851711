// Author lists written as one string: arXiv RSS `dc:creator` ("A (Univ. of
// Birmingham, Edgbaston, UK), B and C") and the old RDF listing's HTML links.

/** The string split on commas, semicolons and " and " that are outside brackets. */
function splitOutsideBrackets(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
    if (depth === 0 && (c === ',' || c === ';')) {
      parts.push(current);
      current = '';
      continue;
    }
    if (depth === 0 && /^\s+and\s+/i.test(text.slice(i)) && /\S/.test(current)) {
      const m = /^\s+and\s+/i.exec(text.slice(i))!;
      parts.push(current);
      current = '';
      i += m[0].length - 1;
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

/** Text without bracketed asides: "Ana Lima (University of Porto, Portugal)" → "Ana Lima". */
function withoutBrackets(text: string): string {
  let out = text;
  for (let prev = ''; prev !== out; ) {
    prev = out;
    out = out.replace(/\s*\([^()]*\)/g, '').replace(/\s*\[[^[\]]*\]/g, '');
  }
  return out;
}

/** What an author string holds: the names, and how many more it says were not shown. */
export interface AuthorList {
  names: string[];
  notShown: number;
}

/** Splits one author string into names, affiliations left out ("et al." and "(N additional authors not shown)" counted, not named). */
export function splitAuthors(text: string): AuthorList {
  const notShown = Number(/\((\d+)\s+additional authors? not shown\)/i.exec(text)?.[1] ?? 0);
  const names = splitOutsideBrackets(text)
    .map((p) => withoutBrackets(p).replace(/\s+/g, ' ').trim())
    // A collaboration prefix ("LHCb collaboration: R. Aaij") names the group, then the first author.
    .flatMap((p) => p.split(/:\s+/))
    .map((p) => p.replace(/^and\s+/i, '').trim())
    .filter((p) => p && !/^et\s+al\.?$/i.test(p));
  return { names, notShown };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** HTML-escaped text as plain text: tags removed, entities decoded once. */
export function htmlToText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1));
        return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}
