import express, { type Express, type Request, type Response } from 'express';
import { z } from 'zod';
import { mailgunReports, postmarkReports, sendgridReports, sesReports } from '../bounces/provider-events.js';
import { sendgridKey, verifyBasicAuth, verifyMailgun, verifySendgrid } from '../bounces/provider-signatures.js';
import { createSnsVerifier, SnsMessage, trustedSnsUrl, type CertPolicy } from '../bounces/sns-verify.js';
import { recordBounce, type BounceReport, type SoftBounceRule } from '../bounces/suppression.js';
import type { Sql } from '../db/sql.js';
import { maskEmail, type Logger } from '../logger.js';

/** Provider settings (config.providers); a provider without its secret has no endpoint. */
export interface ProviderSettings {
  sesTopicArns?: string[];
  snsCertHost: RegExp;
  snsAllowHttpCert: boolean;
  postmarkAuth?: string;
  mailgunSigningKey?: string;
  sendgridPublicKey?: string;
}

/** What the provider webhooks need. */
export interface ProviderRouteDeps {
  database: Sql;
  log: Logger;
  providers: ProviderSettings;
  softBounces: SoftBounceRule;
  clock?: () => Date;
}

/** SNS messages older than this are refused (SNS's own retries are over within minutes by default). */
const SNS_MAX_AGE_MS = 3600_000;

/**
 * POST /webhooks/{ses,postmark,mailgun,sendgrid}: bounces and complaints that
 * arrive after the relay said 250. Each checks what its provider signs before
 * reading anything, and acts on each provider event once. Mounted before the
 * JSON parser: signatures are over the raw bytes.
 */
export function registerProviderRoutes(app: Express, deps: ProviderRouteDeps): void {
  const { providers: p, log } = deps;
  const now = () => (deps.clock ?? (() => new Date()))();
  const raw = express.raw({ type: () => true, limit: '1mb' });
  const refuse = (res: Response, status: number, provider: string, why: string) => {
    log.warn({ provider, why }, 'provider webhook refused');
    res.status(status).json({ error: { code: status === 400 ? 'bad_request' : 'forbidden', message: why } });
  };
  const handle = async (res: Response, reports: BounceReport[]) => {
    const outcomes = [];
    // One after another: a batch naming one reader twice counts in order.
    for (const r of reports) {
      const outcome = await recordBounce(deps.database, r, deps.softBounces, now());
      log.info({ provider: r.provider, kind: r.kind, to: maskEmail(r.email), outcome }, 'provider bounce report');
      outcomes.push(outcome);
    }
    res.json({ ok: true, events: outcomes.length, outcomes });
  };
  const json = (req: Request): unknown => {
    try {
      return JSON.parse((req.body as Buffer).toString('utf8'));
    } catch {
      return undefined;
    }
  };

  if (p.sesTopicArns?.length) {
    const policy: CertPolicy = { host: p.snsCertHost, allowHttp: p.snsAllowHttpCert };
    const sns = createSnsVerifier(policy);
    app.post('/webhooks/ses', raw, async (req, res) => {
      const parsed = SnsMessage.safeParse(json(req));
      if (!parsed.success) return refuse(res, 400, 'ses', 'not an SNS message');
      const m = parsed.data;
      if (!(await sns.verify(m, now()).catch(() => false))) return refuse(res, 403, 'ses', 'SNS signature does not verify');
      if (!p.sesTopicArns!.includes(m.TopicArn)) return refuse(res, 403, 'ses', 'topic not in SES_SNS_TOPIC_ARNS');
      if (!(Math.abs(now().getTime() - Date.parse(m.Timestamp)) <= SNS_MAX_AGE_MS)) return refuse(res, 400, 'ses', 'stale SNS message (replay?)');
      if (m.Type === 'SubscriptionConfirmation') {
        if (!m.SubscribeURL || !trustedSnsUrl(m.SubscribeURL, policy)) return refuse(res, 400, 'ses', 'SubscribeURL is not an SNS URL');
        const confirm = await fetch(m.SubscribeURL, { signal: AbortSignal.timeout(10_000), redirect: 'error' }).catch((err: Error) => err);
        if (confirm instanceof Error || !confirm.ok) return refuse(res, 400, 'ses', 'confirming the subscription failed');
        log.info({ topic: m.TopicArn }, 'SNS subscription confirmed');
        return res.json({ ok: true, confirmed: true });
      }
      if (m.Type === 'UnsubscribeConfirmation') {
        log.warn({ topic: m.TopicArn }, 'SNS says this endpoint was unsubscribed from the topic');
        return res.json({ ok: true });
      }
      let message: unknown;
      try {
        message = JSON.parse(m.Message);
      } catch {
        return res.json({ ok: true, events: 0 });
      }
      await handle(res, sesReports(message as Record<string, unknown>, m.MessageId));
    });
  }

  if (p.postmarkAuth) {
    app.post('/webhooks/postmark', raw, async (req, res) => {
      if (!verifyBasicAuth(p.postmarkAuth!, req.get('authorization'))) return refuse(res, 401, 'postmark', 'basic auth does not match POSTMARK_WEBHOOK_AUTH');
      const body = json(req);
      if (!body || typeof body !== 'object') return refuse(res, 400, 'postmark', 'body is not JSON');
      await handle(res, postmarkReports(body as Record<string, unknown>));
    });
  }

  if (p.mailgunSigningKey) {
    const MailgunBody = z.object({ signature: z.record(z.string(), z.unknown()), 'event-data': z.record(z.string(), z.unknown()) });
    app.post('/webhooks/mailgun', raw, async (req, res) => {
      const parsed = MailgunBody.safeParse(json(req));
      if (!parsed.success) return refuse(res, 400, 'mailgun', 'not a Mailgun webhook (signature, event-data)');
      if (!verifyMailgun(p.mailgunSigningKey!, parsed.data.signature, now())) return refuse(res, 403, 'mailgun', 'HMAC signature does not verify, or the timestamp is stale');
      await handle(res, mailgunReports(parsed.data['event-data']));
    });
  }

  if (p.sendgridPublicKey) {
    const key = sendgridKey(p.sendgridPublicKey);
    app.post('/webhooks/sendgrid', raw, async (req, res) => {
      const ok = verifySendgrid(key, req.get('x-twilio-email-event-webhook-signature'), req.get('x-twilio-email-event-webhook-timestamp'), req.body as Buffer, now());
      if (!ok) return refuse(res, 403, 'sendgrid', 'ECDSA signature does not verify, or the timestamp is stale');
      const body = json(req);
      if (!Array.isArray(body)) return refuse(res, 400, 'sendgrid', 'body is not an array of events');
      await handle(res, sendgridReports(body));
    });
  }
}
