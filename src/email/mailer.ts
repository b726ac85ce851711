import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AttachmentLike } from 'nodemailer/lib/mailer/index.js';
import type { Config } from '../config.js';
import { quotedPrintablePart } from './quoted-printable.js';

/** One message, fully rendered. Header values are stripped of CR/LF before they reach MIME. */
export interface OutgoingMail {
  to: string;
  subject: string;
  html: string;
  text: string;
  messageId?: string;
  headers?: Record<string, string>;
  /** The reader this goes to: with a return path (BOUNCE_ADDRESS) the envelope sender carries their signed VERP tag. */
  subscriberId?: number;
  /** The bodies already encoded as MIME parts (quotedPrintablePart); then `html` and `text` are ignored. */
  raw?: { html: Buffer; text: Buffer };
}

/** What the relay answered: its message id and the 250 response line. */
export interface SendResult {
  messageId: string;
  response: string;
}

/** Sends mail; SMTP or the development outbox. */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(mail: OutgoingMail): Promise<SendResult>;
  close(): void;
}

/**
 * Sends one message and resolves with the relay's refusal, or null when it
 * accepted. Never rejects: callers record an acceptance outside any error
 * handling, so a failure to record it can never lead to sending again.
 */
export function sendOrRefusal(mailer: Mailer, mail: OutgoingMail): Promise<Error | null> {
  return mailer.send(mail).then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
}

// RFC 8058: the one-click headers must be covered by the DKIM signature,
// and nodemailer's default list leaves List-Unsubscribe-Post out.
export const DKIM_HEADER_FIELDS =
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding:' +
  'In-Reply-To:References:List-Id:List-Unsubscribe:List-Unsubscribe-Post';

/** Removes CR, LF and other control characters from a header value. */
export function headerSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** The envelope sender (MAIL FROM) for one message, or undefined for the From address. */
export type ReturnPath = (mail: OutgoingMail) => string | undefined;

function toNodemailer(from: string, mail: OutgoingMail, returnPath?: string) {
  const headers: Record<string, { prepared: true; value: string } | string> = {};
  for (const [k, v] of Object.entries(mail.headers ?? {})) {
    // Prepared: keeps long List-Unsubscribe URLs on one line (folding them breaks some DKIM verifiers).
    headers[k] = k.toLowerCase().startsWith('list-') ? { prepared: true, value: headerSafe(v) } : headerSafe(v);
  }
  return {
    from,
    to: headerSafe(mail.to),
    subject: headerSafe(mail.subject),
    // Bodies arrive encoded: nodemailer's own quoted-printable pass was the largest cost of a send.
    // (nodemailer takes `raw` for the text and html parts too; its types list it only for attachments.)
    text: { raw: mail.raw?.text ?? quotedPrintablePart('text/plain', mail.text) } as AttachmentLike,
    html: { raw: mail.raw?.html ?? quotedPrintablePart('text/html', mail.html) } as AttachmentLike,
    messageId: mail.messageId ? headerSafe(mail.messageId) : undefined,
    headers,
    ...(returnPath ? { envelope: { from: returnPath, to: headerSafe(mail.to) } } : {}),
  };
}

/** Host, port, TLS and credentials of an smtp:// or smtps:// URL. */
export function smtpTarget(url: string) {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  return {
    host: u.hostname,
    port: Number(u.port) || (secure ? 465 : 587),
    secure,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
  };
}

// Opens the TCP connection for nodemailer with TCP_NODELAY: otherwise the
// final "." of every message waits on Nagle's algorithm for the relay's
// delayed ACK (~40 ms per message per connection). TLS is layered on top by
// nodemailer (smtps:// upgrades at once, smtp:// via STARTTLS).
//
// When this connection fails, nodemailer is told to connect by itself (no
// socket) rather than given the error: its pool keeps a resource whose own
// getSocket failed as busy for ever, so after `maxConnections` failures every
// later message waited on a slot that never came back (a relay that was down
// hung the run). Its own attempt fails the same way and is reported, and the
// pool frees the slot. The cost: a relay that drops connections silently takes two
// connection timeouts per attempt, and a connection nodemailer then makes itself
// lacks NODELAY (the run stops after a few such failures anyway, see stopAfter).
function connectNoDelay(options: { host?: string; port?: number; connectionTimeout?: number }, callback: (err: Error | null, socket?: { connection: Socket } | false) => void) {
  const socket = connect({ host: options.host, port: options.port ?? 587 });
  const timer = setTimeout(() => socket.destroy(new Error(`connection to ${options.host}:${options.port} timed out`)), options.connectionTimeout ?? 15_000);
  const onError = () => {
    clearTimeout(timer);
    callback(null, false);
  };
  socket.once('error', onError);
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.off('error', onError);
    socket.setNoDelay(true);
    coalesceWrites(socket);
    callback(null, { connection: socket });
  });
}

// With Nagle off, every write nodemailer makes (headers, each body chunk, the
// final dot) is a packet and a wake-up for the relay. Writes made in the same
// tick are gathered into one.
function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  socket.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    return write(...args);
  }) as Socket['write'];
}

/** Pooled SMTP from SMTP_URL (rate-limited, optional DKIM), or the development outbox when it is unset. */
export function createMailer(config: Pick<Config, 'smtp' | 'mailFrom'>, returnPath?: ReturnPath): Mailer {
  const { smtp } = config;
  if (!smtp.url) return createOutboxMailer(smtp.outboxDir, config.mailFrom);
  // Not `url`: nodemailer ignores `pool: true` next to a url and opens a connection per message.
  const transport: Transporter = nodemailer.createTransport({
    pool: true,
    ...smtpTarget(smtp.url),
    getSocket: connectNoDelay,
    maxConnections: smtp.poolSize,
    maxMessages: 1000,
    ...(smtp.ratePerSecond > 0 ? { rateDelta: 1000, rateLimit: smtp.ratePerSecond } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    ...(smtp.dkim
      ? {
          dkim: {
            domainName: smtp.dkim.domain,
            keySelector: smtp.dkim.selector,
            privateKey: readFileSync(smtp.dkim.keyPath, 'utf8'),
            headerFieldNames: DKIM_HEADER_FIELDS,
          },
        }
      : {}),
  } as nodemailer.TransportOptions);
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transport.sendMail(toNodemailer(config.mailFrom, mail, returnPath?.(mail)));
      return { messageId: info.messageId, response: info.response };
    },
    close: () => transport.close(),
  };
}

/** Writes each message as an .eml file (newest listed first on /outbox). */
export function createOutboxMailer(dir: string, from: string): Mailer {
  mkdirSync(dir, { recursive: true });
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  let seq = 0;
  return {
    kind: 'outbox',
    async send(mail) {
      const info = await stream.sendMail(toNodemailer(from, mail));
      const name = `${Date.now()}-${process.pid}-${++seq}.eml`;
      // Write then rename, so the outbox page never lists a half-written file.
      writeFileSync(join(dir, `.${name}.tmp`), info.message as Buffer);
      renameSync(join(dir, `.${name}.tmp`), join(dir, name));
      return { messageId: info.messageId, response: `250 written to ${name}` };
    },
    close: () => stream.close(),
  };
}
