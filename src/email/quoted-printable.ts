// Quoted-printable (RFC 2045 §6.7) for message bodies. Paperboy encodes its
// own HTML and text parts: nodemailer's encoder (regexes and a wrap pass over
// a string) was the largest single cost of sending a 45 kB digest. This one is
// a single pass over the UTF-8 bytes into a preallocated buffer.

const HEX = Buffer.from('0123456789ABCDEF');
const CR = 13;
const LF = 10;
const EQUALS = 61;
/** Longest encoded line, soft-break "=" included. */
const MAX_LINE = 76;
/** Reused input and output buffers (encoding is synchronous), grown when a body needs more. */
let input = Buffer.allocUnsafe(128 * 1024);
let scratch = Buffer.allocUnsafe(256 * 1024);

/** Writes a soft line break ("=" CRLF) at `o`; returns the offset after it. */
function writeSoftBreak(out: Buffer, o: number): number {
  out[o] = EQUALS;
  out[o + 1] = CR;
  out[o + 2] = LF;
  return o + 3;
}

/**
 * Encodes text as quoted-printable with CRLF line ends: printable ASCII stays
 * as it is (except "="), other bytes become =XX, a space or tab before a line
 * end is encoded, and lines longer than 76 characters get soft breaks.
 */
export function encodeQuotedPrintable(text: string): string {
  const n = encodeIntoScratch(text); // first: it may replace `scratch` with a larger buffer
  return scratch.toString('latin1', 0, n);
}

/** Encodes into the reused scratch buffer; returns the encoded length. */
function encodeIntoScratch(text: string): number {
  // Written into a reused buffer: Buffer.from would measure the UTF-8 length first and allocate per body.
  if (input.length < text.length * 3) input = Buffer.allocUnsafe(text.length * 3);
  const bytes = input;
  const n = input.write(text, 0, 'utf8');
  // Worst case: every byte as =XX, plus a soft break every 25 bytes of that.
  if (scratch.length < n * 4 + 3) scratch = Buffer.allocUnsafe(n * 4 + 3);
  const out = scratch;
  const room = MAX_LINE - 1; // characters per line before the soft break's "="
  let o = 0;
  let col = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    // The common case first, on its own short path: printable ASCII other than "=".
    if (b >= 33 && b <= 126 && b !== EQUALS) {
      if (col === room) {
        o = writeSoftBreak(out, o);
        col = 0;
      }
      out[o++] = b;
      col++;
      continue;
    }
    if (b === LF || (b === CR && i + 1 < n && bytes[i + 1] === LF)) {
      if (b === CR) i++; // CRLF and LF are both one line end
      out[o++] = CR;
      out[o++] = LF;
      col = 0;
      continue;
    }
    if (b === 32 || b === 9) {
      // A space or tab stays literal unless it would end a line.
      const next = i + 1 < n ? bytes[i + 1]! : LF;
      if (next !== LF && !(next === CR && i + 2 < n && bytes[i + 2] === LF)) {
        if (col === room) {
          o = writeSoftBreak(out, o);
          col = 0;
        }
        out[o++] = b;
        col++;
        continue;
      }
    }
    if (col + 3 > room) {
      o = writeSoftBreak(out, o);
      col = 0;
    }
    out[o++] = EQUALS;
    out[o++] = HEX[b >> 4]!;
    out[o++] = HEX[b & 15]!;
    col += 3;
  }
  return o;
}

/**
 * A MIME body part (nodemailer's `raw`): its headers, then the UTF-8 text
 * encoded as quoted-printable. The bytes own their memory, so a worker thread
 * can transfer them instead of copying.
 */
export function quotedPrintablePart(contentType: 'text/plain' | 'text/html', text: string): Buffer {
  const head = `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
  const n = encodeIntoScratch(text);
  const part = Buffer.from(new ArrayBuffer(head.length + n));
  part.write(head, 0, 'latin1');
  scratch.copy(part, head.length, 0, n);
  return part;
}
