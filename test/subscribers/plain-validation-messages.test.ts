import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithRelay, databaseEnv, runCli, tempDir } from '../helpers.js';

// Every field gets a plain message on the web form, the API and the CLI, never a validation library's own text.

const LIBRARY_TEXT = /Invalid input|Invalid option|expected (number|string|array|one of)|received|Too (big|small)|Unrecognized key/;
const PLAIN = {
  hour: 'must be a whole number from 0 to 23',
  maxPapers: 'must be a whole number from 1 to 50',
  weekday: 'must be a whole number from 1 (Monday) to 7 (Sunday)',
  frequency: 'must be daily or weekly',
};

const ctx = appWithRelay();
const tmp = tempDir();
let env: Record<string, string>;

beforeAll(async () => {
  env = { ...(await databaseEnv(tmp.dir, 'cli')), OUTBOX_DIR: tmp.dir };
});
afterAll(() => tmp.cleanup());

describe('validation messages', () => {
  it('when the web form has hour=abc, maxPapers=x, weekday=1.5 and frequency=hourly, then the 400 page names each field with a plain message', async () => {
    const body = new URLSearchParams({ email: 'form@example.org', topics: 'agents', hour: 'abc', maxPapers: 'x', weekday: '1.5', frequency: 'hourly' });
    const res = await fetch(`${ctx.app.url}/subscribe`, { method: 'POST', body });
    expect(res.status).toBe(400);
    const html = (await res.text()).replaceAll('&#x27;', "'").replaceAll('&quot;', '"');
    expect(html).toContain(`Delivery hour: ${PLAIN.hour}`);
    expect(html).toContain(`Papers per digest: ${PLAIN.maxPapers}`);
    expect(html).toContain(`Weekday: ${PLAIN.weekday}`);
    expect(html).toContain(`Frequency: ${PLAIN.frequency}`);
    expect(html).not.toMatch(LIBRARY_TEXT);
  });

  it('when the API gets wrong types and values, then the 400 JSON names each field with a plain message', async () => {
    const res = await fetch(`${ctx.app.url}/api/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 5, topics: 'agents', keywords: 'one', exclude: [7], seeds: 'x', authors: {}, hour: 'abc', maxPapers: 'x', weekday: 0.5, frequency: 'hourly', timezone: 3, colour: 'red' }),
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { issues: { field: string; message: string }[] } };
    const byField = Object.fromEntries(error.issues.map((i) => [i.field, i.message]));
    expect(byField).toEqual({
      email: 'must be a valid email address',
      topics: 'must be a list of topics',
      keywords: 'must be a list of words or phrases',
      'exclude.0': 'must be text',
      seeds: 'must be a list of papers (arXiv ids, links or titles)',
      authors: 'must be a list of author names',
      ...PLAIN,
      timezone: 'must be an IANA time zone such as Europe/Berlin',
      '(body)': 'unknown field "colour"',
    });
    expect(JSON.stringify(error)).not.toMatch(LIBRARY_TEXT);
  });

  it('when the CLI gets --hour abc, --frequency hourly or --max-papers x, then it exits 2 naming the field with a plain message', () => {
    const cases: [string[], string][] = [
      [['--hour', 'abc'], `hour: ${PLAIN.hour}`],
      [['--frequency', 'hourly'], `frequency: ${PLAIN.frequency}`],
      [['--max-papers', 'x'], `maxPapers: ${PLAIN.maxPapers}`],
      [['--weekday', '9'], `weekday: ${PLAIN.weekday}`],
    ];
    for (const [args, message] of cases) {
      const r = runCli(['subscribers', 'add', 'cli@example.org', '--topics', 'agents', ...args], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(LIBRARY_TEXT);
    }
  });
});
