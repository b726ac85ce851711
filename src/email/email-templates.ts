import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Handlebars from 'handlebars';

const DIR = fileURLToPath(new URL('../../templates/email/', import.meta.url));

/** HTML and plain-text parts of one email. */
export interface RenderedEmail {
  html: string;
  text: string;
}

/**
 * Fills a compiled template with one message's data (microseconds; no MJML
 * work). `block` fills just the repeated `{{#each papers}}` part of a template
 * for one paper, so callers can cache per-paper fragments and pass them in as
 * `papersBlock` ({ html, text } strings) instead of `papers`.
 */
export type RenderEmail = ((name: string, data: Record<string, unknown>) => RenderedEmail) & {
  /** MJML's output per template file, to compile the same templates elsewhere without MJML. */
  mjmlOutput: Record<string, string>;
  block: (name: string, item: Record<string, unknown>) => RenderedEmail;
  blockWithHoles: (name: string, item: Record<string, unknown>, holes: string[]) => FillBlock;
  /**
   * The whole message rendered once with `data` and marks for `holes` (the papers go in the holes
   * papersHtml and papersText). Only for data whose sections do not depend on the holes' values:
   * a `{{#if}}` on a hole sees the mark, which is never empty.
   */
  shellWithHoles: (name: string, data: Record<string, unknown>, holes: string[]) => FillBlock;
};

/** Fills the holes of a prepared block (raw values: escaped here where the template escapes them). */
export type FillBlock = (values: Record<string, string>) => RenderedEmail;

// A hole is filled once with a mark: its name between NULs, with an "&" in it.
// Where the template escapes the field the mark comes back with "&amp;", so the
// filler knows to escape that value too.
const holeMark = (name: string) => `\u0000${name}&\u0000`;

const BLOCK_OPEN = '{{#each papers}}';
const BLOCK_CLOSE = '{{/each}}';

/** Splits a template at its `{{#each papers}}` block: outer with a placeholder, and the block body. */
function splitBlock(source: string, placeholder: string): { outer: string; inner: string | null } {
  const open = source.indexOf(BLOCK_OPEN);
  const close = open < 0 ? -1 : source.indexOf(BLOCK_CLOSE, open);
  if (open < 0 || close < 0) return { outer: source, inner: null };
  return { outer: source.slice(0, open) + placeholder + source.slice(close + BLOCK_CLOSE.length), inner: source.slice(open + BLOCK_OPEN.length, close) };
}

/** The Handlebars instance shared by email templates, with the helpers they use. */
export function emailHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('plural', (n: number, one: string, many: string) => (n === 1 ? one : many));
  return hb;
}

/** MJML → HTML for each file, in a worker thread (MJML's memory leaves with it). */
function compileMjml(files: { name: string; source: string }[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./mjml-worker.mjs', import.meta.url), { workerData: { dir: DIR, files } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`MJML worker exited with code ${code}`)));
  });
}

/**
 * Compiles every templates/email/*.mjml once: MJML → responsive HTML that still
 * holds Handlebars placeholders → a Handlebars function. MJML costs 10–20 ms
 * per compile and blocks the event loop, so this runs once per process; another
 * thread passes on `mjmlOutput` instead of compiling again.
 */
export async function compileEmailTemplates(mjmlOutput?: Record<string, string>, hb = emailHandlebars()): Promise<RenderEmail> {
  type Pair = { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate };
  const compiled = new Map<string, Pair & { block: Pair | null }>();
  const htmlOptions = { data: false, knownHelpersOnly: true, knownHelpers: { plural: true } };
  const files = readdirSync(DIR)
    .filter((f) => f.endsWith('.mjml'))
    .map((name) => ({ name, source: readFileSync(DIR + name, 'utf8') }));
  const htmls = mjmlOutput ? files.map((f) => mjmlOutput[f.name] ?? '') : await compileMjml(files);
  for (const [i, file] of files.entries()) {
    const name = file.name.replace(/\.mjml$/, '');
    // Indentation is a fifth of MJML's output and means nothing in HTML (no <pre> in these templates).
    const html = splitBlock(htmls[i]!.replace(/\n[ \t]+/g, '\n').replace(/\n{2,}/g, '\n'), '{{{papersBlock.html}}}');
    const text = splitBlock(readFileSync(`${DIR}${name}.txt`, 'utf8'), '{{{papersBlock.text}}}');
    // No @data variables and only known helpers: lets Handlebars skip lookups on the hot path.
    // Plain text is not HTML: no entity escaping, but header-safe values come from the caller.
    compiled.set(name, {
      html: hb.compile(html.outer, htmlOptions),
      text: hb.compile(text.outer, { noEscape: true }),
      block: html.inner !== null && text.inner !== null ? { html: hb.compile(html.inner, htmlOptions), text: hb.compile(text.inner, { noEscape: true }) } : null,
    });
  }
  const get = (name: string) => {
    const t = compiled.get(name);
    if (!t) throw new Error(`no email template "${name}"`);
    return t;
  };
  const block = (name: string, item: Record<string, unknown>): RenderedEmail => {
    const b = get(name).block;
    if (!b) throw new Error(`email template "${name}" has no {{#each papers}} block`);
    return { html: b.html(item), text: b.text(item) };
  };
  /** A filler for output rendered once with marks where `holes` go: each message then costs a few concatenations. */
  const withHoles = (renderWith: (values: Record<string, string>) => RenderedEmail, holes: string[]): FillBlock => {
    const marked = renderWith(Object.fromEntries(holes.map((h) => [h, holeMark(h)])));
    // [text, hole, text, hole, …, text]; each hole "name&" (raw) or "name&amp;" (escaped).
    const parse = (out: string) => {
      const parts = out.split('\u0000');
      const statics = parts.filter((_, i) => i % 2 === 0);
      const marks = parts.filter((_, i) => i % 2 === 1);
      const at = marks.map((m) => holes.findIndex((h) => m === `${h}&` || m === `${h}&amp;`));
      if (at.some((n) => n < 0)) return null;
      return { statics, at, escaped: marks.map((m) => m.endsWith('&amp;')) };
    };
    const html = parse(marked.html);
    const text = parse(marked.text);
    // Template text that itself holds a NUL would confuse the split: fill such a part the slow way.
    if (!html || !text) return renderWith;
    // Each hole remembers its last value escaped: a value used twice in a message (a link in two places),
    // again for the reader's next paper (their feedback links' base) or for the next reader (a paper's
    // why line, shared by readers of one interest) is escaped once.
    const lastRaw: (string | undefined)[] = [];
    const lastEscaped: string[] = [];
    const escape = (h: number, value: string) => {
      if (lastRaw[h] !== value) {
        lastEscaped[h] = hb.escapeExpression(value);
        lastRaw[h] = value;
      }
      return lastEscaped[h]!;
    };
    const fill = ({ statics, at, escaped }: NonNullable<typeof html>, values: Record<string, string>) => {
      let out = statics[0]!;
      for (let i = 0; i < at.length; i++) {
        const h = at[i]!;
        const value = values[holes[h]!] ?? '';
        out += (escaped[i] ? escape(h, value) : value) + statics[i + 1]!;
      }
      return out;
    };
    return (values) => ({ html: fill(html, values), text: fill(text, values) });
  };
  const blockWithHoles = (name: string, item: Record<string, unknown>, holes: string[]): FillBlock =>
    withHoles((values) => block(name, { ...item, ...values }), holes);
  // The papers go in the holes papersHtml and papersText.
  const shellWithHoles = (name: string, data: Record<string, unknown>, holes: string[]): FillBlock =>
    withHoles((values) => render(name, { ...data, ...values, papersBlock: { html: values.papersHtml ?? '', text: values.papersText ?? '' } }), holes);
  const render = (name: string, data: Record<string, unknown>): RenderedEmail => {
    const t = get(name);
    let papersBlock = data.papersBlock as RenderedEmail | undefined;
    if (!papersBlock && t.block && Array.isArray(data.papers)) {
      const parts = data.papers.map((p: Record<string, unknown>) => block(name, p));
      papersBlock = { html: parts.map((p) => p.html).join(''), text: parts.map((p) => p.text).join('') };
    }
    return { html: t.html({ ...data, papersBlock }), text: t.text({ ...data, papersBlock }) };
  };
  return Object.assign(render, { block, blockWithHoles, shellWithHoles, mjmlOutput: Object.fromEntries(files.map((f, i) => [f.name, htmls[i]!])) });
}
