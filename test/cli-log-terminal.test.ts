import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTerminalOut } from '../src/cli-progress-bar.js';
import { createLogger, logDestination } from '../src/logger.js';
import { FIXTURES, ROOT, runCli, runCliAsync, startSmtp, tempDir } from './helpers.js';

/**
 * The lines a terminal shows for `raw`: enough of one to judge who shares a
 * line. Carriage return, cursor-to-column (ESC[nG) and erase-in-line (ESC[K,
 * 1K, 2K) are applied; other escape sequences (cursor hiding, colours) drawn as nothing.
 */
function screen(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const line = lines[row]!;
    if (ch === '\n') {
      row++;
      col = 0;
      lines[row] ??= [];
    } else if (ch === '\r') col = 0;
    else if (ch === '\x1b') {
      const m = /^\x1b(?:\[([?\d;]*)([A-Za-z])|[78])/.exec(raw.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[1] || 0);
      if (m[2] === 'G') col = Math.max(0, n - 1);
      else if (m[2] === 'K' && n === 0) line.length = Math.min(line.length, col);
      else if (m[2] === 'K' && n === 1) line.fill(' ', 0, col);
      else if (m[2] === 'K' && n === 2) line.length = 0;
    } else {
      while (line.length < col) line.push(' ');
      line[col++] = ch;
    }
  }
  return lines.map((l) => l.join('').trimEnd()).filter(Boolean);
}

/** A stand-in for stderr that records what is written; a terminal 80 columns wide when `isTTY`. */
function fakeStderr(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) }), { isTTY, columns: 80 });
  return { stream, text: () => chunks.join('') };
}

describe('log lines and the progress bar on one terminal', () => {
  it('on a terminal, a log line takes the bar\'s line, is readable, and the bar is drawn again below it', () => {
    const { stream, text } = fakeStderr(true);
    const out = createTerminalOut(stream);
    const log = createLogger('info', logDestination(out, stream));
    const bar = out.bar('sending', 4);
    bar.increment();
    log.warn({ subscriber: 7, to: 'a***@example.org', err: '550 no such user' }, 'digest bounced; address suppressed');
    bar.increment();
    log.error({ err: new Error('relay said no') }, 'digest failed');
    bar.increment(2);
    bar.stop();
    const shown = screen(text());
    for (const line of shown) expect(line.includes('sending [') && line.includes('digest')).toBe(false);
    expect(shown).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\dZ WARN\s+digest bounced; address suppressed subscriber=7 to=a\*\*\*@example\.org err="550 no such user"$/));
    expect(shown).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\dZ ERROR digest failed err="relay said no"$/));
    expect(shown.some((l) => l.startsWith('{'))).toBe(false);
    expect(shown.at(-1)).toMatch(/^sending \[.*\] 4\/4 100%/); // the bar, last and whole
  });

  it('off a terminal, log lines stay pino JSON lines and no bar is drawn', () => {
    const { stream, text } = fakeStderr(false);
    const out = createTerminalOut(stream);
    const log = createLogger('info', logDestination(out, stream));
    const bar = out.bar('sending', 2);
    bar.increment();
    log.warn({ subscriber: 7, email: 'whole@example.org' }, 'digest bounced; address suppressed');
    bar.stop();
    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, msg: 'digest bounced; address suppressed', subscriber: 7, email: '[redacted]', time: expect.any(Number) });
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

/** `paperboy …` with its stdout and stderr on a pseudo-terminal (util-linux `script`); resolves with what the terminal received. */
function runCliInPty(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const cmd = [process.execPath, join(ROOT, 'bin/paperboy.js'), ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', `stty cols 100; exec ${cmd}`, '/dev/null'], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('digest run with readers whose addresses bounce', () => {
  const { dir, cleanup } = tempDir();
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  const now = new Date(Date.now() + 86_400_000).toISOString();
  /** A database with the fixture papers and 24 readers who all match one; the warnings come from the digest worker. */
  const envFor = (name: string) => {
    // PUBLIC_URL set: without it the CLI adds a plain-text warning about guessed links, which is not what these tests look at.
    const env = { DATABASE_PATH: join(dir, `${name}.db`), OUTBOX_DIR: join(dir, 'outbox'), SECRET: 'cli-secret-cli-secret-cli-secret-0123', SMTP_URL: smtp.url, SMTP_POOL_SIZE: '1', PUBLIC_URL: 'http://localhost:3000' };
    expect(runCli(['import', join(FIXTURES, 'hf-daily-2025-12-29.json')], env).code).toBe(0);
    const csv = join(dir, `${name}.csv`);
    writeFileSync(csv, ['email,keywords,hour', ...Array.from({ length: 24 }, (_, i) => `r${i}@example.org,sparse autoencoders,0`)].join('\n'));
    expect(runCli(['subscribers', 'import', csv, '--confirmed'], env).code).toBe(0);
    return env;
  };
  beforeAll(async () => {
    // Every other reader's address is refused: each refusal is a warning logged mid-run.
    smtp = await startSmtp({ reject: (rcpt) => (/^r\d*[13579]@/.test(rcpt) ? { code: 550, message: 'no such user' } : null) });
  });
  afterAll(async () => (await smtp.close(), cleanup()));

  it.skipIf(!hasScript)('on a terminal shows each warning on a line of its own, readable, never on the bar\'s line', async () => {
    const r = await runCliInPty(['digest', 'run', '--now', now], { ...envFor('tty'), LOG_LEVEL: 'warn' });
    const shown = screen(r.output);
    expect(r.code, r.output).toBe(1); // some failed
    for (const line of shown) expect(line.includes('sending [') && line.includes('digest bounced'), line).toBe(false);
    const warnings = shown.filter((l) => l.includes('digest bounced'));
    expect(warnings).toHaveLength(12);
    for (const w of warnings) expect(w).toMatch(/^\d\d:\d\d:\d\dZ WARN\s+digest bounced; address suppressed subscriber=\d+ to=r\*\*\*@example\.org err=".*550 no such user"$/);
    expect(shown.filter((l) => l.includes('sending ['))).not.toHaveLength(0);
    expect(shown.at(-1)).toBe('24 due: sent 12, skipped 0 (nothing matched), failed 12');
  });

  it.skipIf(!hasScript)('on a terminal writes the main thread\'s own warnings readably too', async () => {
    // The confirmation email goes out from the main thread (outbound worker); the relay refuses the address.
    const r = await runCliInPty(['subscribers', 'add', 'r99@example.org', '--keywords', 'sparse'], { ...envFor('main'), LOG_LEVEL: 'warn' });
    const shown = screen(r.output);
    expect(r.code, r.output).toBe(0);
    expect(shown).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\dZ WARN\s+address suppressed mail=\d+ to=r\*\*\*@example\.org reason=/));
    expect(shown.filter((l) => l.includes('{'))).toEqual([]);
  });

  it('with stderr on a pipe writes the same warnings as pino JSON lines, and nothing else', async () => {
    const r = await runCliAsync(['digest', 'run', '--now', now], { ...envFor('pipe'), LOG_LEVEL: 'warn' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('24 due: sent 12, skipped 0 (nothing matched), failed 12\n');
    const records = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(12);
    for (const rec of records) expect(rec).toMatchObject({ level: 40, msg: 'digest bounced; address suppressed', to: 'r***@example.org', time: expect.any(Number), pid: expect.any(Number) });
  });
});
