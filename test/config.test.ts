import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { runCli, startPaperboy } from './helpers.js';

const PRODUCTION = {
  NODE_ENV: 'production',
  SECRET: 'a-production-secret-of-at-least-32-chars',
  PUBLIC_URL: 'https://paperboy.example.org',
  SMTP_URL: 'smtps://paperboy:pw@smtp.example.org',
};

/** The message of the ConfigError `env` causes, or null when it loads. */
function problem(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

describe('production is safe by default', () => {
  it('when everything production needs is set, then it loads', () => {
    expect(problem(PRODUCTION)).toBeNull();
  });

  it('when PUBLIC_URL is missing or plain http, then it refuses to start, naming PUBLIC_URL', () => {
    const { PUBLIC_URL: _, ...noUrl } = PRODUCTION;
    expect(problem(noUrl)).toMatch(/PUBLIC_URL: required when NODE_ENV=production, as an https:\/\/ URL/);
    expect(problem({ ...PRODUCTION, PUBLIC_URL: 'http://paperboy.example.org' })).toMatch(/PUBLIC_URL: .*https/);
  });

  it('when SMTP_URL is missing, then it refuses to start unless the outbox is explicitly allowed', () => {
    const { SMTP_URL: _, ...noSmtp } = PRODUCTION;
    expect(problem(noSmtp)).toMatch(/SMTP_URL: required when NODE_ENV=production \(or set ALLOW_OUTBOX=true/);
    expect(problem({ ...noSmtp, ALLOW_OUTBOX: 'true' })).toBeNull();
  });

  it('names every problem at once', () => {
    const message = problem({ NODE_ENV: 'production' }) ?? '';
    expect(message).toContain('SECRET:');
    expect(message).toContain('PUBLIC_URL:');
    expect(message).toContain('SMTP_URL:');
  });

  it('when the outbox page is asked for in production or on a non-loopback HOST, then it refuses to start', () => {
    expect(problem({ ...PRODUCTION, ALLOW_OUTBOX: 'true', OUTBOX_PAGE: 'true' })).toMatch(/OUTBOX_PAGE: .*development only/);
    expect(problem({ HOST: '0.0.0.0', OUTBOX_PAGE: 'true' })).toMatch(/OUTBOX_PAGE: .*loopback \(HOST=0\.0\.0\.0\)/);
  });

  it('serves the outbox page by default only in development on a loopback HOST', () => {
    expect(loadConfig({ NODE_ENV: 'development' }).smtp.outboxPage).toBe(true);
    expect(loadConfig({ NODE_ENV: 'development', HOST: '0.0.0.0' }).smtp.outboxPage).toBe(false);
    expect(loadConfig({ NODE_ENV: 'development', OUTBOX_PAGE: 'false' }).smtp.outboxPage).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test' }).smtp.outboxPage).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', OUTBOX_PAGE: 'true', HOST: 'localhost' }).smtp.outboxPage).toBe(true);
    expect(loadConfig({ ...PRODUCTION, ALLOW_OUTBOX: 'true' }).smtp.outboxPage).toBe(false);
  });

  it('when `serve` starts in production without PUBLIC_URL, then it exits 2 naming the variable', () => {
    const r = runCli(['serve'], { NODE_ENV: 'production', SECRET: PRODUCTION.SECRET, SMTP_URL: PRODUCTION.SMTP_URL, DATABASE_PATH: '/nonexistent/never-created.db' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('PUBLIC_URL: required when NODE_ENV=production');
  });
});

describe('which database', () => {
  it('uses DATABASE_URL (PostgreSQL) when set, else the SQLite file at DATABASE_PATH', () => {
    expect(loadConfig({}).database).toBe('./data/paperboy.db');
    expect(loadConfig({ DATABASE_PATH: '/srv/p.db' }).database).toBe('/srv/p.db');
    const url = 'postgres://paperboy:pw@db.internal:5432/paperboy';
    expect(loadConfig({ DATABASE_PATH: '/srv/p.db', DATABASE_URL: url }).database).toBe(url);
  });

  it('refuses a DATABASE_URL that is not a postgres:// URL, naming the variable', () => {
    expect(problem({ DATABASE_URL: 'mysql://x@y/z' })).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
  });
});

describe('TRUST_PROXY', () => {
  it.each([
    ['true', true],
    ['false', false],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['loopback, 10.0.0.0/8, fd00::/8', 'loopback,10.0.0.0/8,fd00::/8'],
    ['192.168.0.0/255.255.0.0', '192.168.0.0/255.255.0.0'],
  ] as const)('reads %s as %s', (raw, value) => {
    expect(loadConfig({ TRUST_PROXY: raw }).trustProxy).toEqual(value);
  });

  it('defaults to loopback', () => {
    expect(loadConfig({}).trustProxy).toBe('loopback');
  });

  it.each(['yes please', '10.0.0.0/99', 'loopback,nonsense', '1.5'])('refuses %s with a clear message', (raw) => {
    expect(problem({ TRUST_PROXY: raw })).toMatch(/TRUST_PROXY: must be true, false, a hop count/);
  });
});

describe('routes that depend on configuration', () => {
  it('with TRUST_PROXY=1, then the client address comes from the one proxy in front, and /digest/:token is rate-limited per client', async () => {
    const app = await startPaperboy({ TRUST_PROXY: '1' });
    try {
      const view = (ip: string) => fetch(`${app.url}/digest/not-a-real-token`, { headers: { 'x-forwarded-for': ip } });
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) statuses.push((await view('203.0.113.7')).status);
      expect(statuses.slice(0, 60).every((s) => s !== 429 && s < 500)).toBe(true);
      expect(statuses[60]).toBe(429);
      // Another client behind the same proxy is not limited by the first one's requests.
      expect((await view('198.51.100.9')).status).not.toBe(429);
    } finally {
      await app.stop();
    }
  });

  it('serves /outbox in development with no SMTP_URL, and not otherwise', async () => {
    const dev = await startPaperboy({ NODE_ENV: 'development' });
    const test = await startPaperboy({});
    try {
      expect((await fetch(`${dev.url}/outbox`)).status).toBe(200);
      expect((await fetch(`${test.url}/outbox`)).status).toBe(404);
    } finally {
      await dev.stop();
      await test.stop();
    }
  });

  it('reads WEBHOOK_URLS as unset (leave the stored list), none (remove it) or a list; a value of blanks or commas is refused, not read as none', () => {
    const base = { NODE_ENV: 'test' };
    expect(loadConfig(base).webhooks.urls).toBeUndefined();
    expect(loadConfig({ ...base, WEBHOOK_URLS: ' None ' }).webhooks.urls).toEqual([]);
    expect(loadConfig({ ...base, WEBHOOK_URLS: 'https://a.example/h, https://b.example/h', WEBHOOK_SECRET: 'x'.repeat(32) }).webhooks.urls).toEqual(['https://a.example/h', 'https://b.example/h']);
    for (const bad of [' ', ',', ' , ']) expect(() => loadConfig({ ...base, WEBHOOK_URLS: bad })).toThrow(/WEBHOOK_URLS: must list URLs \(comma-separated\), or be none/);
  });
});
