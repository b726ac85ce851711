import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseEnv, runCli, tempDir } from '../helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const env = { ...(await databaseEnv(tmp.dir, 'subs')), OUTBOX_DIR: join(tmp.dir, 'outbox') };
const list = () => JSON.parse(runCli(['subscribers', 'list', '--json'], env).stdout) as { email: string; status: string }[];

describe('paperboy subscribers', () => {
  it('adds a pending subscriber with a confirmation email, or an active one with --confirmed', () => {
    expect(runCli(['subscribers', 'add', 'Ada@Example.org', '--topics', 'interpretability;agents', '--hour', '7'], env).code).toBe(0);
    expect(runCli(['subscribers', 'add', 'bob@example.org', '--keywords', 'muon', '--confirmed', '--timezone', 'Europe/Berlin'], env).code).toBe(0);
    expect(list()).toEqual([
      { email: 'ada@example.org', status: 'pending', topics: ['interpretability', 'agents'], keywords: [], exclude: [], seeds: [], authors: [], frequency: 'daily', weekday: 1, hour: 7, timezone: 'UTC', maxPapers: 10 },
      { email: 'bob@example.org', status: 'active', topics: [], keywords: ['muon'], exclude: [], seeds: [], authors: [], frequency: 'daily', weekday: 1, hour: 8, timezone: 'Europe/Berlin', maxPapers: 10 },
    ]);
    const mails = readdirSync(env.OUTBOX_DIR);
    expect(mails).toHaveLength(1);
    expect(readFileSync(join(env.OUTBOX_DIR, mails[0]!), 'utf8')).toContain('To: ada@example.org');
  });

  it('rejects bad input with exit code 2 and a message naming the field', () => {
    const noInterest = runCli(['subscribers', 'add', 'c@example.org'], env);
    expect(noInterest.code).toBe(2);
    expect(noInterest.stderr).toContain('topics: pick at least one topic');
    const dup = runCli(['subscribers', 'add', 'bob@example.org', '--topics', 'agents'], env);
    expect(dup.code).toBe(2);
    expect(runCli(['subscribers', 'add', 'not-an-address', '--topics', 'agents'], env).stderr).toContain('email');
    expect(runCli(['subscribers', 'remove', 'ghost@example.org'], env).code).toBe(2);
  });

  it('imports a CSV all or nothing, naming the line and field of a bad row', () => {
    const bad = join(tmp.dir, 'bad.csv');
    writeFileSync(bad, 'email,topics,hour\nx@example.org,agents;graphs,9\ny@example.org,astrology,3\n');
    const r = runCli(['subscribers', 'import', bad], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.csv: line 3: topics: unknown topic "astrology"');
    expect(list().map((s) => s.email)).not.toContain('x@example.org');
  });

  it('round-trips export → import with the same columns', () => {
    const ok = join(tmp.dir, 'ok.csv');
    writeFileSync(ok, 'email,status,topics,keywords,exclude,frequency,weekday,hour,timezone,max_papers\nx@example.org,,agents;graphs,"flow matching;GRPO",medical,weekly,5,9,Asia/Tokyo,5\nz@example.org,unsubscribed,graphs,,,daily,1,3,UTC,10\n');
    expect(runCli(['subscribers', 'import', ok, '--confirmed'], env).stdout).toContain('2 rows: 2 added');
    const exported = runCli(['subscribers', 'export'], env).stdout;
    expect(exported.split('\n')[0]).toBe('email,status,topics,keywords,exclude,frequency,weekday,hour,timezone,max_papers,seeds,authors');
    expect(exported).toContain('x@example.org,active,agents;graphs,flow matching;GRPO,medical,weekly,5,9,Asia/Tokyo,5');
    expect(exported).toContain('z@example.org,unsubscribed,graphs');
    const again = join(tmp.dir, 'again.csv');
    writeFileSync(again, exported);
    const before = list();
    expect(runCli(['subscribers', 'import', again, '--confirmed'], env).code).toBe(0);
    expect(list()).toEqual(before);
  });

  it('takes seed papers and authors to follow, and exports and lists them', () => {
    const add = runCli(['subscribers', 'add', 'seeds@example.org', '--seeds', 'arXiv:2401.00001; Transformers learn in-context by gradient descent', '--authors', 'Yann LeCun, J. Müller', '--confirmed'], env);
    expect(add.code).toBe(0);
    const me = list().find((x: { email: string }) => x.email === 'seeds@example.org');
    expect(me).toMatchObject({ seeds: ['arXiv:2401.00001', 'Transformers learn in-context by gradient descent'], authors: ['Yann LeCun', 'J. Müller'], topics: [], keywords: [] });
    expect(runCli(['subscribers', 'export'], env).stdout).toContain('seeds@example.org,active,,,,daily,1,8,UTC,10,arXiv:2401.00001;Transformers learn in-context by gradient descent,Yann LeCun;J. Müller');
  });

  it('removes a subscriber and all their data', () => {
    expect(runCli(['subscribers', 'remove', 'z@example.org'], env).code).toBe(0);
    expect(list().map((s) => s.email)).not.toContain('z@example.org');
  });

  it('lists the topic catalogue: at least 20 topics with their queries', () => {
    const topics = JSON.parse(runCli(['topics', 'list', '--json']).stdout) as { slug: string; query: string; terms: string[] }[];
    expect(topics.length).toBeGreaterThanOrEqual(20);
    const interp = topics.find((t) => t.slug === 'interpretability')!;
    for (const term of ['explainability', 'saliency', 'feature attribution', 'probing']) expect(interp.terms).toContain(term);
    expect(interp.query).toContain('"feature attribution"');
  });
});
