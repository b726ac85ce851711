import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/digests/term-match.js';
import { parseFile } from '../../src/papers/import-service.js';
import { splitAuthors } from '../../src/papers/parsers/author-list.js';
import { decodeTex, foldDiacritics } from '../../src/papers/text-normalise.js';
import { FIXTURES } from '../helpers.js';

// Excerpts of real arXiv and Hugging Face answers (test/fixtures/README.md says where each comes from).
const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
const parse = (f: string) => parseFile(f, read(f), undefined, '2026-08-11');

describe('the old RSS 1.0 (RDF) arXiv listing', () => {
  const { format, papers } = parse('arxiv-rdf-hep-ex-2018-05-23.xml');

  it('reads new and cross-listed items and skips UPDATED ones', () => {
    expect(format).toBe('arxiv');
    expect(papers.map((p) => p.arxivId)).toEqual(['1805.08875', '1805.09166']);
  });

  it('gives titles without the "(arXiv:… [cat])" suffix, names instead of <a href> HTML, abstracts without markup', () => {
    expect(papers[0]!.title).toBe('Measurement of Transverse Single Spin Asymmetries.');
    expect(papers[1]!.title).toBe('Recent Top quark results from the Tevatron.');
    expect(papers[0]!.authors).toEqual(['Christopher Dilks']);
    expect(papers[1]!.authors).toEqual(['Boris Tuchming']);
    expect(papers[0]!.abstract).toMatch(/^In 2015 the first collisions between polarized protons/);
    expect(papers[0]!.abstract).toContain('range of $2.6<\\eta<4$. Within');
    expect(papers[0]!.abstract).not.toMatch(/<\/?p>|&lt;|&amp;/);
  });

  it('keeps the listing date and the primary category', () => {
    expect(papers.map((p) => [p.publishedAt, p.keywords])).toEqual([
      ['2018-05-23', ['hep-ex']],
      ['2018-05-23', ['hep-ex']],
    ]);
  });
});

describe('arXiv error answers', () => {
  it('refuses the API error entry, naming the problem', () => {
    expect(() => parse('arxiv-api-error-abc.xml')).toThrow(
      "arxiv-api-error-abc.xml: entry 1: arXiv answered with an error: incorrect id format for abc",
    );
  });

  it("refuses the listing feed of a category that does not exist (\"Bad archive 'astroph'\")", () => {
    expect(() => parse('arxiv-rss-error-astroph.xml')).toThrow("arXiv answered with an error: Bad archive 'astroph'");
  });
});

describe('arXiv RSS authors and TeX', () => {
  const { papers } = parse('arxiv-rss-affiliations-tex.xml');
  const byId = (id: string) => papers.find((p) => p.arxivId === id)!;

  it('splits dc:creator on commas outside brackets and "and", leaving affiliations out of names', () => {
    expect(byId('2608.06900').authors).toEqual(['Ana Lima', 'Rémy Dupont', 'Jörg Müller', 'Li Wei', 'François Girard']);
    expect(byId('2608.06900').authorCount).toBe(5);
    expect(byId('2608.06893').authors).toEqual(['Forouzan Fallah', 'Yezhou Yang']);
  });

  it('stores TeX accents and escapes as the Unicode they mean, math left as written', () => {
    expect(byId('2608.06900').title).toBe('Entropic Schrödinger Bridges with Rényi Divergences & Optimal Transport on $\\mathbb{R}^d$');
    expect(byId('2608.06900').abstract).toBe('We study the Schrödinger bridge problem following François and Günther, with costs $c(x,y) = \\|x-y\\|^2$.');
    expect(byId('2608.06893').abstract).toMatch(/^Schrödinger bridge models restore a clean signal/);
  });

  it('keeps a title "0.50" and an abstract "1e3" as written, not as numbers', () => {
    expect(byId('2608.06901').title).toBe('0.50');
    expect(byId('2608.06901').abstract).toBe('1e3');
  });

  it('makes "Schrödinger" and "Schrodinger" the same words for digest matching', () => {
    const words = tokenize(byId('2608.06900').title);
    expect(words).toContain('schrodinger');
    expect(tokenize('Schrödinger')).toEqual(tokenize('Schrodinger'));
  });
});

describe('Hugging Face rows and old-style ids', () => {
  it('joins the hard line breaks Hugging Face copies from arXiv, and decodes TeX', () => {
    const [paper] = parse('hf-daily-line-breaks.json').papers;
    expect(paper!.abstract).not.toContain('\n');
    expect(paper!.abstract).toMatch(/^Schrödinger bridge models restore a clean signal from a degraded observation by following/);
  });

  it('invents no Hugging Face page for an old-style arXiv id', () => {
    const [paper] = parse('arxiv-api-astro-ph-0601001.xml').papers;
    expect(paper!.arxivId).toBe('astro-ph/0601001');
    expect(paper!.urls).toMatchObject({ page: null, abs: 'https://arxiv.org/abs/astro-ph/0601001' });
    expect(paper!.authors).toEqual(['Andrew Gould', 'Susan Dorsher', 'B. Scott Gaudi', 'Andrzej Udalski']);
  });
});

describe('text normalisation', () => {
  it('decodes the common TeX accents and escapes', () => {
    const cases: [string, string][] = [
      ['Schr\\"odinger', 'Schrödinger'], ["R\\'emy", 'Rémy'], ['A \\& B', 'A & B'], ['{\\"o}', 'ö'], ['\\c{c}', 'ç'],
      ['Stra\\ss e', 'Straße'], ['{\\ss}', 'ß'], ["Ram\\'{\\i}rez", 'Ramírez'], ['Erd\\H{o}s', 'Erdős'], ['\\v{S}koda', 'Škoda'],
      ['W\\l{}odzimierz', 'Włodzimierz'], ['costs \\$5', 'costs $5'], ['$\\"o$ and \\"o', '$\\"o$ and ö'],
    ];
    for (const [tex, text] of cases) expect(decodeTex(tex), tex).toBe(text);
  });

  it('folds diacritics for matching', () => {
    expect(foldDiacritics('Schrödinger Rémy Łukasz Ørsted')).toBe('Schrodinger Remy Lukasz Orsted');
  });

  it('splits the author strings seen in the old and new listings', () => {
    expect(splitAuthors('LHCb collaboration: R. Aaij, et al. (909 additional authors not shown)')).toEqual({ names: ['LHCb collaboration', 'R. Aaij'], notShown: 909 });
    expect(splitAuthors('A. One (Lab [X, Y], Z), B. Two; C. Three and D. Four').names).toEqual(['A. One', 'B. Two', 'C. Three', 'D. Four']);
  });
});
