import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const PAGES = fileURLToPath(new URL('../../templates/pages/', import.meta.url));
const PARTIALS = fileURLToPath(new URL('../../templates/partials/', import.meta.url));

/** Renders a named page template inside the layout. Values are HTML-escaped by Handlebars. */
export type RenderPage = (name: string, data: Record<string, unknown>) => string;

/** Compiles every page template once; rendering is then a function call. */
export function compilePages(): RenderPage {
  const hb = Handlebars.create();
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('includes', (list: unknown, v: unknown) => Array.isArray(list) && list.includes(v));
  hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(String(sep)) : ''));
  for (const f of (existsSync(PARTIALS) ? readdirSync(PARTIALS) : []).filter((f) => f.endsWith('.hbs'))) {
    hb.registerPartial(f.replace(/\.hbs$/, ''), readFileSync(PARTIALS + f, 'utf8'));
  }
  const pages = new Map<string, Handlebars.TemplateDelegate>();
  for (const f of readdirSync(PAGES).filter((f) => f.endsWith('.hbs'))) {
    pages.set(f.replace(/\.hbs$/, ''), hb.compile(readFileSync(PAGES + f, 'utf8'), { strict: false }));
  }
  const layout = pages.get('layout');
  if (!layout) throw new Error('templates/pages/layout.hbs is missing');
  return (name, data) => {
    const page = pages.get(name);
    if (!page) throw new Error(`no page template "${name}"`);
    return layout({ ...data, body: page(data) });
  };
}
