import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { encodeQuotedPrintable, quotedPrintablePart } from '../../src/email/quoted-printable.js';

const SAMPLES = [
  '',
  'plain ascii',
  'a = b, x==y, =3D stays literal text',
  'Grüße, naïve café — “quotes” · 数学 · 🙂 emoji',
  'trailing space   \nand tab\t\nlast line ends in space ',
  'CRLF\r\nline\r\nends\rlone CR',
  '.leading dot\n..two dots\nFrom the start',
  `${'x'.repeat(300)}\n${'é'.repeat(100)}\n${'= '.repeat(80)}`,
  '<td style="font-family:Helvetica,Arial;font-size:14px;line-height:1.5">x</td>'.repeat(20),
  `${'ü'.repeat(50_000)}\nlarger than the reused buffers`,
  'short again after a long one',
];

describe('quoted-printable', () => {
  it('keeps lines within 76 characters of printable ASCII, with no space before a line end', () => {
    for (const text of SAMPLES) {
      const encoded = encodeQuotedPrintable(text);
      for (const line of encoded.split('\r\n')) {
        expect(line.length).toBeLessThanOrEqual(76);
        expect(line).toMatch(/^[\x21-\x7e \t]*$/);
        expect(line).not.toMatch(/[ \t]$/);
      }
      expect(encoded.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    }
  });

  it('decodes back to the same text in a real mail parser (line ends as CRLF)', async () => {
    for (const text of SAMPLES) {
      const message = `From: a@example.org\r\nTo: b@example.org\r\nSubject: qp\r\nMIME-Version: 1.0\r\n${quotedPrintablePart('text/plain', text).toString('latin1')}`;
      const parsed = await simpleParser(message);
      expect((parsed.text ?? '').replace(/\r\n/g, '\n')).toBe(text.replace(/\r\n/g, '\n'));
    }
  });

  it('leaves printable ASCII as it is and encodes only what it must', () => {
    expect(encodeQuotedPrintable('Hello, world!')).toBe('Hello, world!');
    expect(encodeQuotedPrintable('a=b')).toBe('a=3Db');
    expect(encodeQuotedPrintable('ü')).toBe('=C3=BC');
    expect(encodeQuotedPrintable('end \nnext')).toBe('end=20\r\nnext');
    expect(encodeQuotedPrintable('x'.repeat(80))).toBe(`${'x'.repeat(75)}=\r\n${'x'.repeat(5)}`);
  });
});
