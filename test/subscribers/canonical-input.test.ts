import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findByEmail } from '../../src/subscribers/subscriber-repo.js';
import { appWithRelay, databaseEnv, runCliAsync, tempDir } from '../helpers.js';

// The CLI runs without blocking this process: a blocked event loop lets the
// server's keep-alive timer close a socket fetch is about to reuse (ECONNRESET).
// What readers type is stored in one canonical form, whatever the way in (API, web form, CLI, CSV import).

const ctx = appWithRelay();
const tmp = tempDir();
let env: Record<string, string>;

beforeAll(async () => {
  env = { ...(await databaseEnv(tmp.dir, 'cli')), OUTBOX_DIR: join(tmp.dir, 'outbox') };
});
afterAll(() => tmp.cleanup());

const api = (body: object) => fetch(`${ctx.app.url}/api/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const cliList = async () => JSON.parse((await runCliAsync(['subscribers', 'list', '--json'], env)).stdout) as { email: string; timezone: string; keywords: string[]; exclude: string[] }[];

describe('time zones', () => {
  it('when a zone is typed in another case, then the API, the web form, the CLI and an import store its canonical name', async () => {
    expect((await api({ email: 'tz-api@example.org', topics: ['agents'], timezone: 'europe/paris' })).status).toBe(202);
    expect((await findByEmail(ctx.app.database, 'tz-api@example.org'))!.timezone).toBe('Europe/Paris');
    const web = await fetch(`${ctx.app.url}/subscribe`, { method: 'POST', body: new URLSearchParams({ email: 'tz-web@example.org', topics: 'agents', timezone: 'AMERICA/NEW_YORK' }) });
    expect(web.status).toBe(200);
    expect((await findByEmail(ctx.app.database, 'tz-web@example.org'))!.timezone).toBe('America/New_York');
    // An alias typed in lower case becomes the zone the runtime resolves it to.
    expect((await api({ email: 'tz-alias@example.org', topics: ['agents'], timezone: 'utc' })).status).toBe(202);
    expect((await findByEmail(ctx.app.database, 'tz-alias@example.org'))!.timezone).toBe('UTC');

    expect((await runCliAsync(['subscribers', 'add', 'tz-cli@example.org', '--topics', 'agents', '--timezone', 'europe/berlin', '--confirmed'], env)).code).toBe(0);
    const csv = join(tmp.dir, 'tz.csv');
    writeFileSync(csv, 'email,topics,timezone\ntz-csv@example.org,agents,asia/tokyo\n');
    expect((await runCliAsync(['subscribers', 'import', csv, '--confirmed'], env)).code).toBe(0);
    const zones = Object.fromEntries((await cliList()).map((s) => [s.email, s.timezone]));
    expect(zones).toMatchObject({ 'tz-cli@example.org': 'Europe/Berlin', 'tz-csv@example.org': 'Asia/Tokyo' });
  });

  it('when a zone is unknown in any case, then it is still refused', async () => {
    const res = await api({ email: 'tz-bad@example.org', topics: ['agents'], timezone: 'europe/pariss' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('timezone');
    const cli = await runCliAsync(['subscribers', 'add', 'tz-bad@example.org', '--topics', 'agents', '--timezone', 'mars/olympus'], env);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('timezone: must be an IANA time zone');
  });
});

describe('topics', () => {
  it('when a topic slug is typed in another case or with spaces, then the API, the web form, the CLI and an import store the slug', async () => {
    expect((await api({ email: 'tp-api@example.org', topics: ['Agents', 'Diffusion Models'] })).status).toBe(202);
    expect(await findByEmail(ctx.app.database, 'tp-api@example.org')).toMatchObject({ topics: ['agents', 'diffusion-models'] });
    const web = await fetch(`${ctx.app.url}/subscribe`, { method: 'POST', body: new URLSearchParams({ email: 'tp-web@example.org', topics: 'AGENTS, diffusion_models' }) });
    expect(web.status).toBe(200);
    expect(await findByEmail(ctx.app.database, 'tp-web@example.org')).toMatchObject({ topics: ['agents', 'diffusion-models'] });
    const cli = await runCliAsync(['subscribers', 'add', 'tp-cli@example.org', '--topics', 'Agents,Interpretability', '--confirmed'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const csv = join(tmp.dir, 'tp.csv');
    writeFileSync(csv, 'email,topics\ntp-csv@example.org,Agents;agents\n');
    expect((await runCliAsync(['subscribers', 'import', csv, '--confirmed'], env)).code).toBe(0);
    const byEmail = Object.fromEntries(((await cliList()) as unknown as { email: string; topics: string[] }[]).map((s) => [s.email, s.topics]));
    expect(byEmail).toMatchObject({ 'tp-cli@example.org': ['agents', 'interpretability'], 'tp-csv@example.org': ['agents'] });
    // A slug that is not in the catalogue in any case is still refused.
    const bad = await runCliAsync(['subscribers', 'add', 'tp-bad@example.org', '--topics', 'Agnets'], env);
    expect(bad.code).toBe(2);
  });
});

describe('keywords and excluded keywords', () => {
  it('when the same keyword is given twice in different case, then the API, the web form, the CLI and an import keep only its first spelling', async () => {
    const dupes = { keywords: ['GRPO', 'grpo', 'Sparse autoencoders', 'sparse  Autoencoders'], exclude: ['Diffusion', 'DIFFUSION', 'diffusion'] };
    const want = { keywords: ['GRPO', 'Sparse autoencoders'], exclude: ['Diffusion'] };
    expect((await api({ email: 'kw-api@example.org', ...dupes })).status).toBe(202);
    expect(await findByEmail(ctx.app.database, 'kw-api@example.org')).toMatchObject(want);
    const web = await fetch(`${ctx.app.url}/subscribe`, { method: 'POST', body: new URLSearchParams({ email: 'kw-web@example.org', keywords: dupes.keywords.join(', '), exclude: dupes.exclude.join('; ') }) });
    expect(web.status).toBe(200);
    expect(await findByEmail(ctx.app.database, 'kw-web@example.org')).toMatchObject(want);

    const cli = await runCliAsync(['subscribers', 'add', 'kw-cli@example.org', '--keywords', 'GRPO; grpo', '--exclude', 'Diffusion, diffusion', '--confirmed'], env);
    expect(cli.code, cli.stderr).toBe(0);
    const csv = join(tmp.dir, 'kw.csv');
    writeFileSync(csv, 'email,keywords,exclude\nkw-csv@example.org,GRPO;grpo;Sparse autoencoders;SPARSE AUTOENCODERS,Diffusion;diffusion\n');
    expect((await runCliAsync(['subscribers', 'import', csv, '--confirmed'], env)).code).toBe(0);
    const byEmail = Object.fromEntries((await cliList()).map((s) => [s.email, { keywords: s.keywords, exclude: s.exclude }]));
    expect(byEmail['kw-cli@example.org']).toEqual({ keywords: ['GRPO'], exclude: ['Diffusion'] });
    expect(byEmail['kw-csv@example.org']).toEqual(want);
  });
});
