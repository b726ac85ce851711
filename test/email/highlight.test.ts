import { describe, expect, it } from 'vitest';
import { excerpt, highlight, prepareText } from '../../src/email/excerpt.js';

describe('highlighting matched words in an abstract', () => {
  it('marks every occurrence of a key, whatever its case or accents, and escapes the rest', () => {
    const text = prepareText('Café <b>agents</b> & cafe, AGENTS: "Agentic" agents.');
    expect(highlight(text, ['agents', 'cafe'])).toBe(
      '<mark>Café</mark> &#60;b&#62;<mark>agents</mark>&#60;/b&#62; &#38; <mark>cafe</mark>, <mark>AGENTS</mark>: &#34;Agentic&#34; <mark>agents</mark>.',
    );
  });

  it('returns the escaped text when nothing matches, and tolerates a key given twice', () => {
    const text = prepareText('Tools & <planning>');
    expect(highlight(text, [])).toBe('Tools &#38; &#60;planning&#62;');
    expect(highlight(text, ['tools', 'tools'])).toBe('<mark>Tools</mark> &#38; &#60;planning&#62;');
    expect(highlight('plain string input', ['string'])).toBe('plain <mark>string</mark> input');
  });

  it('marks a matched phrase whole, and a common word of it only inside the phrase', () => {
    const common = (k: string) => ['learning', 'sparse', 'input'].includes(k);
    const text = prepareText('Reinforcement learning with sparse rewards; learning rates, text-to-image models; input.');
    expect(highlight(text, ['reinforcement', 'learning', 'text', 'image', 'input'], common)).toBe(
      '<mark>Reinforcement learning</mark> with sparse rewards; learning rates, <mark>text-to-image</mark> models; input.',
    );
    // A rare word standing alone is still marked.
    expect(highlight(text, ['rewards'], common)).toContain('sparse <mark>rewards</mark>');
  });

  it('cuts an excerpt around the first match, with ellipses, in HTML and plain text', () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`).join(' ');
    const text = prepareText(`${words}. The sparse autoencoder finds features & more ${words}.`);
    const cut = excerpt(text, ['sparse', 'autoencoder'], 10);
    expect(cut.html).toBe('… The <mark>sparse autoencoder</mark> finds features &#38; more w0 w1 w2 w3 …');
    expect(cut.text).toBe('… The sparse autoencoder finds features & more w0 w1 w2 w3 …');
    // No match: the start of the text.
    expect(excerpt(text, [], 3).text).toBe('w0 w1 w2 …');
    // Short text: all of it, no ellipsis.
    expect(excerpt(prepareText('Just this.'), ['this'], 18).html).toBe('Just <mark>this</mark>.');
  });
});
