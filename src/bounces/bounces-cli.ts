import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createServices } from '../main.js';
import { mailboxDeps, pollBounceMailbox } from './imap-poll.js';

const out = (s: string): void => void process.stdout.write(`${s}\n`);

/** `paperboy bounces poll`: reads the bounce mailbox (IMAP_URL) once. */
export function registerBounceCommands(program: Command): void {
  const bounces = program.command('bounces').description('the bounce mailbox (IMAP_URL, BOUNCE_ADDRESS)');
  bounces
    .command('poll')
    .description('read unseen messages of the bounce mailbox once: DSNs and feedback-loop complaints suppress, auto-replies are ignored; each is marked \\Seen')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig();
      if (!config.bounces.imapUrl) throw new ConfigError('IMAP_URL: not set; e.g. IMAP_URL=imaps://user:pass@imap.example.org/INBOX (and BOUNCE_ADDRESS for VERP return paths)');
      const s = await createServices(config, createLogger(process.env.LOG_LEVEL ?? 'warn'));
      try {
        const summary = await pollBounceMailbox(mailboxDeps(s)!).catch((e: Error) => {
          // Unreachable server, refused login, missing mailbox: the operator's to fix, said in one line (no stack).
          process.stderr.write(`paperboy: ${e.message}\n`);
          process.exitCode = 1;
          return null;
        });
        if (!summary) return;
        if (summary.failed > 0) process.exitCode = 1;
        if (opts.json) return out(JSON.stringify(summary));
        out(
          `read ${summary.seen} message(s): ${summary.hard_bounce} hard bounce(s), ${summary.soft_bounce} soft, ${summary.complaint} complaint(s), ` +
            `${summary.suppressed} address(es) suppressed; ignored ${summary.auto_reply} auto-reply(ies), ${summary.ignored} other, ${summary.forged} with a forged tag, ${summary.unknown_recipient} for nobody we know` +
            `${summary.failed ? `; ${summary.failed} failed (left unseen)` : ''}${summary.left ? `; ${summary.left} left for the next poll` : ''}`,
        );
      } finally {
        await s.close();
      }
    });
}
