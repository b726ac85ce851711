import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const DIR = fileURLToPath(new URL('../../templates/pages/admin/', import.meta.url));

/** Renders a console page inside the console layout (its own, not the readers' one). Values are HTML-escaped. */
export type RenderAdmin = (name: string, data: Record<string, unknown>) => string;

/** Compiles templates/pages/admin/*.hbs once. */
export function compileAdminPages(): RenderAdmin {
  const hb = Handlebars.create();
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hb.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(String(sep)) : ''));
  const pages = new Map<string, Handlebars.TemplateDelegate>();
  for (const f of readdirSync(DIR).filter((f) => f.endsWith('.hbs'))) pages.set(f.replace(/\.hbs$/, ''), hb.compile(readFileSync(DIR + f, 'utf8')));
  const layout = pages.get('_layout')!;
  return (name, data) => {
    const page = pages.get(name);
    if (!page) throw new Error(`no admin page template "${name}"`);
    return layout({ ...data, body: page(data) });
  };
}
