import { describe, expect, it } from 'vitest';
import { highlight, prepareText } from '../../src/email/digest-email.js';

describe('highlighting matched words in an abstract', () => {
  it('marks every occurrence of a key, whatever its case or accents, and escapes the rest', () => {
    const text = prepareText('Café <b>agents</b> & cafe AGENTS: "Agentic" agents.');
    expect(highlight(text, ['agents', 'cafe'])).toBe(
      '<mark>Café</mark> &#60;b&#62;<mark>agents</mark>&#60;/b&#62; &#38; <mark>cafe</mark> <mark>AGENTS</mark>: &#34;Agentic&#34; <mark>agents</mark>.',
    );
  });

  it('returns the escaped text when nothing matches, and tolerates a key given twice', () => {
    const text = prepareText('Tools & <planning>');
    expect(highlight(text, [])).toBe('Tools &#38; &#60;planning&#62;');
    expect(highlight(text, ['tools', 'tools'])).toBe('<mark>Tools</mark> &#38; &#60;planning&#62;');
    expect(highlight('plain string input', ['string'])).toBe('plain <mark>string</mark> input');
  });
});
