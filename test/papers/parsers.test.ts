import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { detectFormat, parseFile } from '../../src/papers/import-service.js';
import { FIXTURES } from '../helpers.js';

const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');

describe('importers', () => {
  it('reads Hugging Face daily_papers rows and leaves withdrawn papers out', () => {
    const { format, papers } = parseFile('hf.json', read('hf-daily-2025-12-29.json'), undefined, '2025-12-31');
    expect(format).toBe('hf');
    expect(papers.map((p) => p.arxivId)).toEqual(['1607.06450', '2512.20001']);
    expect(papers[1]).toMatchObject({
      title: 'Sparse Autoencoders Find Monosemantic Features in Vision Transformers',
      organization: 'Example Lab', upvotes: 54, listedOn: '2025-12-29', publishedAt: '2025-12-24',
      keywords: ['sparse autoencoders', 'mechanistic interpretability', 'vision transformers'],
      urls: { code: 'https://github.com/example/sae-vit', pdf: 'https://arxiv.org/pdf/2512.20001' },
    });
  });

  it('reads arXiv API Atom: versionless ids, authors, categories, entities decoded', () => {
    const { format, papers } = parseFile('q.xml', read('arxiv-query-cs.LG.xml'), undefined, '2025-12-31');
    expect(format).toBe('arxiv');
    expect(papers[0]).toMatchObject({ arxivId: '2110.02861', title: '8-bit Optimizers via Block-wise Quantization', publishedAt: '2021-10-06' });
    expect(papers[0]!.authors).toEqual(['Tim Dettmers', 'Mike Lewis', 'Sam Shleifer', 'Luke Zettlemoyer']);
    expect(papers[1]!.title).toBe('Quantization-Aware Training <b>for</b> Tiny Language Models');
    expect(papers[1]!.abstract).toContain('& show 4-bit');
    expect(papers[1]!.keywords).toEqual(['cs.CL', 'cs.LG']);
  });

  it('reads arXiv RSS listing feeds: new and cross-lists, not replacements', () => {
    const { papers } = parseFile('rss.xml', read('arxiv-rss-cs.LG.xml'), undefined, '2025-12-31');
    expect(papers.map((p) => p.arxivId)).toEqual(['2512.21001', '2512.21002']);
    expect(papers[0]!.abstract).toBe('We revisit first-layer training of vision models and propose a closed-form activation update.');
    expect(papers[0]!.authors).toEqual(['Jane Doe', 'John Roe']);
  });

  it('reads Paperboy JSON and JSON Lines records', () => {
    const record = { id: '2401.12345', title: 'T', abstract: 'A', authors: ['X'], urls: { abs: 'https://arxiv.org/abs/2401.12345' } };
    const json = parseFile('p.json', JSON.stringify([record]), undefined, '2025-12-31');
    expect(json.format).toBe('json');
    expect(json.papers[0]).toMatchObject({ arxivId: '2401.12345', title: 'T', authors: ['X'] });
    const jsonl = parseFile('p.jsonl', `${JSON.stringify(record)}\n\n${JSON.stringify({ ...record, id: 'custom-1', urls: {} })}\n`, undefined, '2025-12-31');
    expect(jsonl.papers.map((p) => p.arxivId ?? p.id)).toEqual(['2401.12345', 'custom-1']);
  });

  it('names the file, line and field of a bad record', () => {
    const good = JSON.stringify({ title: 'Fine' });
    expect(() => parseFile('p.jsonl', `${good}\n{"title": ""}\n`, undefined, '2025-12-31')).toThrow('p.jsonl: line 2: title: must not be empty');
    expect(() => parseFile('p.jsonl', `${good}\n{oops\n`, undefined, '2025-12-31')).toThrow(/p\.jsonl: line 2: invalid JSON/);
    expect(() => parseFile('p.json', '[{"title":"x","upvotes":-1}]', 'json', '2025-12-31')).toThrow('p.json: entry 1: upvotes');
    expect(() => parseFile('p.json', '[{"title":"x","surprise":1}]', 'json', '2025-12-31')).toThrow(/entry 1/);
    expect(() => parseFile('hf.json', '[{"paper":{"id":"1"}}]', 'hf', '2025-12-31')).toThrow(/hf\.json: entry 1: paper\.title/);
    expect(() => parseFile('a.xml', '<feed><entry><title>x</title>', 'arxiv', '2025-12-31')).toThrow(InputError);
  });

  it('detects formats from extension and content', () => {
    expect(detectFormat('x.txt', 'new\n\nDaily Papers\n\nDec 30\n')).toBe('page');
    expect(detectFormat('x.jsonl', '{}')).toBe('jsonl');
    expect(() => detectFormat('x.bin', 'random bytes')).toThrow(/cannot tell the format/);
  });
});
