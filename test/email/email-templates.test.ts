import { describe, expect, it } from 'vitest';
import { compileEmailTemplates } from '../../src/email/email-templates.js';

const paper = (title: string) => ({
  title,
  url: 'https://arxiv.org/abs/2611.00001',
  byline: 'Ada <Lovelace> & "Friends"',
  upvotes: 7,
  published: '2026-11-20',
  meta: 'Ada <Lovelace> & "Friends" · ▲ 7',
  age: '',
  absLabel: 'Full abstract',
  pk: 3,
  feedbackPath: '/2611.00001',
  links: { page: null, abs: 'https://arxiv.org/abs/2611.00001', pdf: 'https://arxiv.org/pdf/2611.00001', code: null },
});

describe('email templates', () => {
  it('fills a block prepared with holes exactly as a full render of the block', async () => {
    const render = await compileEmailTemplates();
    const values = { excerptHtml: 'Highlighted <mark>words</mark> &amp; more', excerptText: 'Highlighted words & more', why: 'Matches "Agents" & <tools>', feedbackBase: 'https://x.example/f/a.b?x=1&y=2' };
    for (const title of ['Plain title', 'A <script>alert(1)</script> & "quoted" title', 'A title with a \u0000NUL\u0000 in it']) {
      const item = paper(title);
      const fill = render.blockWithHoles('digest', item, ['excerptHtml', 'excerptText', 'why', 'feedbackBase']);
      const filled = fill(values);
      expect(filled).toEqual(render.block('digest', { ...item, ...values }));
      expect(filled.html).toContain('Matches &quot;Agents&quot; &amp; &lt;tools&gt;');
      expect(filled.html).toContain('Highlighted <mark>words</mark>');
      expect(filled.text).toContain('Why: Matches "Agents" & <tools>');
      expect(filled.html).toContain('<a href="https://x.example/f/a.b?x&#x3D;1&amp;y&#x3D;2/2611.00001?choice=more">More like this</a>');
      expect(filled.text).toContain('More like this: https://x.example/f/a.b?x=1&y=2/2611.00001?choice=more');
      expect(filled.html).not.toContain('<script>');
      // A block remembers each hole's last escaped value: the next reader's values, changed one at a
      // time, equal content in another string, and back again, each give what a full render gives.
      const others = [
        { ...values, why: 'Matches <other> & more' },
        { ...values, why: 'Matches <other> & more', feedbackBase: 'https://x.example/f/c.d' },
        { ...values, why: ['Matches "Agents"', '& <tools>'].join(' ') },
        values,
      ];
      for (const other of others) expect(fill(other)).toEqual(render.block('digest', { ...item, ...other }));
    }
  });

  it('fills a whole message prepared with holes exactly as a full render of it', async () => {
    const render = await compileEmailTemplates();
    const holes = ['subject', 'heading', 'interests', 'tocHtml', 'papersHtml', 'papersText', 'email', 'manageUrl', 'viewUrl'];
    const shell = render.shellWithHoles('digest', { archive: false, scheduleLabel: 'daily at 07:00 (UTC)', feedUrl: 'https://x.example/feed' }, holes);
    for (const email of ['ada@example.com', 'o\'brien+"x"@example.com', 'nul\u0000@example.com']) {
      const values = { subject: 'Agents & <tools> · Tue', heading: '2 papers', interests: '"agents" & <rl>', tocHtml: '<li>A &amp; B</li>', papersHtml: '<p>paper <b>one</b></p>', papersText: '• paper one & two', email, manageUrl: 'https://x.example/manage/a?b=1&c=2', viewUrl: 'https://x.example/digest/v' };
      const full = render('digest', { archive: false, scheduleLabel: 'daily at 07:00 (UTC)', feedUrl: 'https://x.example/feed', ...values, papersBlock: { html: values.papersHtml, text: values.papersText } });
      expect(shell(values)).toEqual(full);
      expect(full.html).toContain('<p>paper <b>one</b></p>');
      expect(full.html).toContain('&quot;agents&quot; &amp; &lt;rl&gt;');
      expect(full.html).toContain('https://x.example/manage/a?b&#x3D;1&amp;c&#x3D;2');
    }
  });

  it('uses system fonts only: no email loads a web font (Google would see each reader open it)', async () => {
    const render = await compileEmailTemplates();
    expect(Object.keys(render.mjmlOutput).sort()).toEqual(['confirm.mjml', 'digest.mjml', 'manage.mjml', 'silence.mjml']);
    for (const [file, html] of Object.entries(render.mjmlOutput)) {
      expect(html, file).not.toMatch(/fonts\.googleapis\.com|fonts\.gstatic\.com/);
      expect(html, file).not.toMatch(/@import|@font-face|<link[^>]+stylesheet/i);
      expect(html, file).toMatch(/font-family:\s*-apple-system/);
    }
  });

  it('declares English on every email, so screen readers read it as English', async () => {
    const render = await compileEmailTemplates();
    for (const [file, html] of Object.entries(render.mjmlOutput)) expect(html, file).toMatch(/<html[^>]* lang="en"/);
  });
});
