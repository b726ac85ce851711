import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import mjml2html from 'mjml';

const DIR = fileURLToPath(new URL('../../templates/email/', import.meta.url));

/** HTML and plain-text parts of one email. */
export interface RenderedEmail {
  html: string;
  text: string;
}

/** Fills a compiled template with one message's data (microseconds; no MJML work). */
export type RenderEmail = (name: string, data: Record<string, unknown>) => RenderedEmail;

/** The Handlebars instance shared by email templates, with the helpers they use. */
export function emailHandlebars(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('plural', (n: number, one: string, many: string) => (n === 1 ? one : many));
  return hb;
}

/**
 * Compiles every templates/email/*.mjml once: MJML → responsive HTML that still
 * holds Handlebars placeholders → a Handlebars function. MJML costs 10–20 ms
 * per compile and blocks the event loop, so this runs once per process.
 */
export async function compileEmailTemplates(hb = emailHandlebars()): Promise<RenderEmail> {
  const compiled = new Map<string, { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate }>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.mjml'))) {
    const name = file.replace(/\.mjml$/, '');
    const result = await mjml2html(readFileSync(DIR + file, 'utf8'), {
      filePath: DIR + file,
      // MJML 5 ignores mj-include unless asked; only templates/email/ may be included.
      ignoreIncludes: false,
      includePath: DIR,
      validationLevel: 'strict',
      minify: false,
    });
    const text = readFileSync(`${DIR}${name}.txt`, 'utf8');
    compiled.set(name, {
      // No @data variables and only known helpers: lets Handlebars skip lookups on the hot path.
      html: hb.compile(result.html, { data: false, knownHelpersOnly: true, knownHelpers: { plural: true } }),
      // Plain text is not HTML: no entity escaping, but header-safe values come from the caller.
      text: hb.compile(text, { noEscape: true }),
    });
  }
  return (name, data) => {
    const t = compiled.get(name);
    if (!t) throw new Error(`no email template "${name}"`);
    return { html: t.html(data), text: t.text(data) };
  };
}
