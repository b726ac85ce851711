import { isIP } from 'node:net';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** WEBHOOK_URLS=none: no endpoints at all. */
const NONE = /^\s*none\s*$/i;

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Whether one TRUST_PROXY list item is a name express knows, an address, or a subnet (CIDR or netmask). */
function proxyItem(item: string): boolean {
  if (PROXY_NAMES.has(item)) return true;
  const [addr = '', prefix, ...rest] = item.split('/');
  const family = isIP(addr);
  if (!family || rest.length) return false;
  if (prefix === undefined) return true;
  if (/^\d+$/.test(prefix)) return Number(prefix) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(prefix) === 4;
}

/**
 * express's "trust proxy": 'true'/'false' → boolean, digits → a hop count, else a
 * comma-separated list of loopback/linklocal/uniquelocal, addresses and subnets.
 * (Passed on as a string, '1' would be read as an address and trust nobody.)
 */
export const TrustProxy = z
  .string()
  .trim()
  .transform((v, ctx): boolean | number | string => {
    if (v === 'true' || v === 'false') return v === 'true';
    if (/^\d+$/.test(v)) return Number(v);
    const items = v.split(',').map((s) => s.trim());
    if (items.every(proxyItem)) return items.join(',');
    ctx.addIssue({ code: 'custom', message: 'must be true, false, a hop count, or a comma-separated list of loopback, linklocal, uniquelocal, addresses and subnets' });
    return z.NEVER;
  });
export type TrustProxy = z.infer<typeof TrustProxy>;

/** Whether HOST only listens on this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_URL: httpUrl.optional(),
  DATABASE_PATH: z.string().min(1).default('./data/paperboy.db'),
  /** PostgreSQL instead of the SQLite file: postgres://user:password@host:port/database */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/i, 'must be a postgres:// URL').optional(),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DB_BUSY_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  SMTP_RATE_PER_SECOND: z.coerce.number().min(0).default(0),
  OUTBOX_DIR: z.string().min(1).default('./data/outbox'),
  ALLOW_OUTBOX: bool.default(false),
  OUTBOX_PAGE: bool.optional(),
  MAIL_FROM: z.string().min(3).default('Paperboy <paperboy@localhost>'),
  LIST_UNSUBSCRIBE_MAILTO: z.email().optional(),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY_PATH: z.string().optional(),
  SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: TrustProxy.default(TrustProxy.parse('loopback')),
  RATE_LIMITS: bool.default(true),
  SOURCES: list.pipe(z.array(z.enum(['hf', 'arxiv']))).default(['hf', 'arxiv']),
  HF_API_URL: httpUrl.default('https://huggingface.co'),
  ARXIV_API_URL: httpUrl.default('https://export.arxiv.org'),
  ARXIV_CATEGORIES: list.default(['cs.LG', 'cs.CL', 'cs.CV', 'cs.AI']),
  ARXIV_MAX_RESULTS: z.coerce.number().int().min(1).max(2000).default(200),
  FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  INGEST_CRON: z.string().default('7 * * * *'),
  DIGEST_CRON: z.string().default('*/10 * * * *'),
  SCHEDULER: bool.default(true),
  DEMO_CORPUS: bool.default(true),
  LOOKBACK_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  // Issue 16: metrics, provider webhooks (bounces/complaints), outgoing webhooks.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SOFT_BOUNCE_LIMIT: z.coerce.number().int().min(1).max(100).default(3),
  SOFT_BOUNCE_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(14),
  SES_SNS_TOPIC_ARNS: list.optional(),
  SNS_CERT_HOST_PATTERN: z.string().optional(),
  POSTMARK_WEBHOOK_AUTH: z.string().regex(/^[^:]+:.{12,}$/, 'must be user:password (password at least 12 characters)').optional(),
  MAILGUN_WEBHOOK_SIGNING_KEY: z.string().min(16).optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(40).optional(),
  // `none` removes every endpoint (an empty value counts as unset, like every variable here).
  WEBHOOK_URLS: z
    .string()
    .refine((v) => NONE.test(v) || /[^\s,]/.test(v), 'must list URLs (comma-separated), or be none')
    .transform((v) => (NONE.test(v) ? '' : v))
    .pipe(list)
    .pipe(z.array(httpUrl))
    .optional(),
  WEBHOOK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Issue 16: the bounce mailbox (VERP return paths, read over IMAP).
  BOUNCE_ADDRESS: z.email().refine((v) => !v.split('@')[0]!.includes('+') && v.split('@')[0]!.length <= 32, 'must be an address whose local part has no + and at most 32 characters (the VERP tag is added after a +)').optional(),
  IMAP_URL: z.url({ protocol: /^imaps?$/, error: 'must be an imaps:// or imap:// URL, e.g. imaps://user:pass@host/INBOX' }).optional(),
  IMAP_POLL_CRON: z.string().default('*/5 * * * *'),
});

export type Config = ReturnType<typeof buildConfig>;

/** A configuration problem, with one line per offending variable. */
export class ConfigError extends Error {}

/** Parses the environment once; the only reader of process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const problems = deploymentProblems(parsed.data);
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return buildConfig(parsed.data);
}

/** What production refuses to start without, and where the outbox page may never be served. */
function deploymentProblems(e: z.infer<typeof EnvSchema>): string[] {
  const problems: string[] = [];
  if (e.NODE_ENV === 'production') {
    if (!e.SECRET) problems.push('SECRET: required when NODE_ENV=production');
    // RFC 8058: the one-click List-Unsubscribe URI must be https.
    if (!e.PUBLIC_URL?.startsWith('https://')) problems.push('PUBLIC_URL: required when NODE_ENV=production, as an https:// URL (links and one-click unsubscribe in every email)');
    if (!e.SMTP_URL && !e.ALLOW_OUTBOX) problems.push('SMTP_URL: required when NODE_ENV=production (or set ALLOW_OUTBOX=true to write mail to OUTBOX_DIR instead of sending it)');
    if (e.OUTBOX_PAGE) problems.push('OUTBOX_PAGE: the outbox page shows live links; it is for development only');
  }
  if (e.OUTBOX_PAGE && !isLoopbackHost(e.HOST)) problems.push(`OUTBOX_PAGE: the outbox page shows live links; it is served only when HOST is loopback (HOST=${e.HOST})`);
  return problems;
}

/** The warning a CLI command writes before it puts links into mail while PUBLIC_URL is unset (null when set): the guessed base URL need not be the running server's. */
export function guessedPublicUrlWarning(config: Pick<Config, 'publicUrl' | 'publicUrlGuessed' | 'port'>): string | null {
  if (!config.publicUrlGuessed) return null;
  return (
    `paperboy: warning: PUBLIC_URL is not set, so links in this mail use ${config.publicUrl}, guessed from this command's own PORT (${config.port}), ` +
    `which may not be the web server's; set PUBLIC_URL to the server's address for this command too (e.g. PUBLIC_URL=http://localhost:3917)`
  );
}

function buildConfig(e: z.infer<typeof EnvSchema>) {
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    /** PUBLIC_URL was not set, so publicUrl is guessed from this process's PORT (never in production, which requires it). */
    publicUrlGuessed: e.PUBLIC_URL === undefined,
    databasePath: e.DATABASE_PATH,
    /** Where the data lives: the PostgreSQL URL when set, else the SQLite file. */
    database: e.DATABASE_URL ?? e.DATABASE_PATH,
    dbPoolSize: e.DB_POOL_SIZE,
    busyTimeoutMs: e.DB_BUSY_TIMEOUT_MS,
    smtp: Object.freeze({
      url: e.SMTP_URL,
      poolSize: e.SMTP_POOL_SIZE,
      ratePerSecond: e.SMTP_RATE_PER_SECOND,
      outboxDir: e.OUTBOX_DIR,
      /** Serve /outbox (when mail goes to the outbox): explicitly, or by default in development on a loopback HOST. */
      outboxPage: (e.OUTBOX_PAGE ?? e.NODE_ENV === 'development') && isLoopbackHost(e.HOST),
      dkim:
        e.DKIM_DOMAIN && e.DKIM_SELECTOR && e.DKIM_PRIVATE_KEY_PATH
          ? { domain: e.DKIM_DOMAIN, selector: e.DKIM_SELECTOR, keyPath: e.DKIM_PRIVATE_KEY_PATH }
          : undefined,
    }),
    mailFrom: e.MAIL_FROM,
    listUnsubscribeMailto: e.LIST_UNSUBSCRIBE_MAILTO,
    secret: e.SECRET,
    adminToken: e.ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    rateLimits: e.RATE_LIMITS,
    sources: Object.freeze({
      enabled: e.SOURCES,
      hfUrl: e.HF_API_URL.replace(/\/+$/, ''),
      arxivUrl: e.ARXIV_API_URL.replace(/\/+$/, ''),
      arxivCategories: e.ARXIV_CATEGORIES,
      arxivMaxResults: e.ARXIV_MAX_RESULTS,
      timeoutMs: e.FETCH_TIMEOUT_MS,
    }),
    cron: Object.freeze({ enabled: e.SCHEDULER, ingest: e.INGEST_CRON, digest: e.DIGEST_CRON }),
    demoCorpus: e.DEMO_CORPUS,
    lookbackDays: e.LOOKBACK_DAYS,
    metricsToken: e.METRICS_TOKEN,
    softBounces: Object.freeze({ count: e.SOFT_BOUNCE_LIMIT, windowDays: e.SOFT_BOUNCE_WINDOW_DAYS }),
    providers: Object.freeze({
      sesTopicArns: e.SES_SNS_TOPIC_ARNS,
      // Only tests serve their own signing certificate; production always checks for Amazon's SNS hosts.
      snsCertHost: new RegExp(e.NODE_ENV === 'test' && e.SNS_CERT_HOST_PATTERN ? e.SNS_CERT_HOST_PATTERN : '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$'),
      snsAllowHttpCert: e.NODE_ENV === 'test' && Boolean(e.SNS_CERT_HOST_PATTERN),
      postmarkAuth: e.POSTMARK_WEBHOOK_AUTH,
      mailgunSigningKey: e.MAILGUN_WEBHOOK_SIGNING_KEY,
      sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY,
    }),
    // Unset: this process leaves the shared endpoint list alone (a one-off command or a
    // cron job with a thin environment must not turn webhooks off for every node).
    webhooks: Object.freeze({ urls: e.WEBHOOK_URLS, secret: e.WEBHOOK_SECRET }),
    bounces: Object.freeze({ address: e.BOUNCE_ADDRESS, imapUrl: e.IMAP_URL, pollCron: e.IMAP_POLL_CRON }),
  });
}
