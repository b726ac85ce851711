import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES, listen, startPaperboy } from '../helpers.js';

const P = join(FIXTURES, 'providers');
const fixture = (name: string) => readFileSync(join(P, name), 'utf8');
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:paperboy-ses';
const MAILGUN_KEY = 'key-mailgun-signing-0123456789abcdef';
const POSTMARK = 'hooks:postmark-secret-1234';
const sendgrid = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SNS_KEY = readFileSync(join(P, 'sns-test-signing.key'), 'utf8');

// The string SNS signs, written out from its documentation (not imported from src), in its field order.
function signSns(m: Record<string, string>, version: '1' | '2' = '1') {
  const fields = m.Type === 'Notification' ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = fields.filter((f) => m[f] !== undefined).map((f) => `${f}\n${m[f]}\n`).join('');
  const signer = createSign(version === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  signer.update(text);
  return { ...m, SignatureVersion: version, Signature: signer.sign(SNS_KEY, 'base64') };
}

describe('bounces and complaints from providers, through the real endpoints', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>>;
  let certServer: Awaited<ReturnType<typeof listen>>;
  const confirmations: string[] = [];

  beforeAll(async () => {
    const pem = fixture('sns-test-signing.pem');
    certServer = await listen((req, res) => {
      if (req.url === '/SimpleNotificationService-test.pem') return res.end(pem);
      if (req.url?.startsWith('/confirm')) {
        confirmations.push(req.url);
        return res.end('<ConfirmSubscriptionResponse/>');
      }
      res.statusCode = 404;
      res.end();
    });
    app = await startPaperboy({
      RATE_LIMITS: 'false',
      SES_SNS_TOPIC_ARNS: TOPIC,
      SNS_CERT_HOST_PATTERN: '^127\\.0\\.0\\.1$',
      POSTMARK_WEBHOOK_AUTH: POSTMARK,
      MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
      SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    });
  });
  afterAll(async () => {
    await app.stop();
    await certServer.close();
  });

  beforeEach(async () => {
    const db = app.database;
    await db.exec('DELETE FROM subscribers; DELETE FROM suppressions; DELETE FROM provider_events;');
    const at = new Date().toISOString();
    for (const who of ['hard', 'full', 'angry', 'vacation', 'blocked', 'ok', 'slow']) {
      await db.run("INSERT INTO subscribers (email, status, created_at, updated_at, confirmed_at) VALUES (?, 'active', ?, ?, ?)", [`${who}@example.org`, at, at, at]);
    }
  });

  const status = async (email: string) => (await app.database.get<{ status: string }>('SELECT status FROM subscribers WHERE email = ?', [email]))!.status;
  const consent = (email: string) =>
    app.database.all('SELECT event, method FROM consent_events c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email = ? ORDER BY c.id', [email]);
  const suppression = (email: string) =>
    app.database.get('SELECT reason, source FROM suppressions p JOIN subscribers s ON s.id = p.subscriber_id WHERE s.email = ?', [email]);
  const post = (path: string, body: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { method: 'POST', body, headers });

  describe('Amazon SES through SNS', () => {
    const certUrl = () => `${certServer.url}/SimpleNotificationService-test.pem`;
    const notification = (message: string, over: Record<string, string> = {}) =>
      signSns({ Type: 'Notification', MessageId: randomUUID(), TopicArn: TOPIC, Message: message, Timestamp: new Date().toISOString(), SigningCertURL: certUrl(), ...over });
    const sns = (m: object) => post('/webhooks/ses', JSON.stringify(m), { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' });

    it('when SNS asks to confirm the subscription, then the signed SubscribeURL is visited once', async () => {
      const m = JSON.parse(fixture('sns-subscription-confirmation.json'));
      const signed = signSns({ ...m, SubscribeURL: `${certServer.url}/confirm?Token=abc`, Timestamp: new Date().toISOString(), SigningCertURL: certUrl() });
      const res = await sns(signed);
      expect(res.status).toBe(200);
      expect(confirmations).toEqual(['/confirm?Token=abc']);
    });

    it('when a permanent bounce arrives signed (v1 and v2), then the address is suppressed at once and the consent log says ses', async () => {
      const res = await sns(notification(fixture('ses-bounce-permanent.json')));
      expect(res.status).toBe(200);
      expect(await status('hard@example.org')).toBe('bounced');
      expect(await consent('hard@example.org')).toContainEqual({ event: 'bounced', method: 'ses' });
      expect(await suppression('hard@example.org')).toEqual({ reason: 'hard_bounce', source: 'ses' });
      const complaint = signSns({ Type: 'Notification', MessageId: randomUUID(), TopicArn: TOPIC, Message: fixture('ses-complaint.json'), Timestamp: new Date().toISOString(), SigningCertURL: certUrl() }, '2');
      expect((await sns(complaint)).status).toBe(200);
      expect(await status('angry@example.org')).toBe('bounced');
      expect(await consent('angry@example.org')).toContainEqual({ event: 'complained', method: 'ses' });
    });

    it('when the message was changed after signing, or signed for another topic, or the cert is not on an SNS host, then it is refused and nothing changes', async () => {
      const forged = { ...notification(fixture('ses-complaint.json')), Message: fixture('ses-bounce-permanent.json') };
      expect((await sns(forged)).status).toBe(403);
      expect((await sns(notification(fixture('ses-bounce-permanent.json'), { TopicArn: 'arn:aws:sns:us-east-1:999999999999:someone-else' }))).status).toBe(403);
      const elsewhere = notification(fixture('ses-bounce-permanent.json'), { SigningCertURL: certUrl().replace('127.0.0.1', 'localhost') });
      expect((await sns(elsewhere)).status).toBe(403);
      expect((await sns({ hello: 'world' })).status).toBe(400);
      expect(await status('hard@example.org')).toBe('active');
      expect(await status('angry@example.org')).toBe('active');
    });

    it('when a signed message is replayed, then the second delivery changes nothing, and an old one is refused', async () => {
      const m = notification(fixture('ses-bounce-permanent.json'));
      expect(await (await sns(m)).json()).toMatchObject({ outcomes: ['suppressed'] });
      expect(await (await sns(m)).json()).toMatchObject({ outcomes: ['duplicate'] });
      expect((await consent('hard@example.org')).filter((e) => (e as { event: string }).event === 'bounced')).toHaveLength(1);
      const old = notification(fixture('ses-complaint.json'), { Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString() });
      expect((await sns(old)).status).toBe(400);
      expect(await status('angry@example.org')).toBe('active');
    });

    it('when transient bounces arrive, then the address is suppressed only at the third within the window', async () => {
      const transient = (n: number) => fixture('ses-bounce-transient.json').replace('FEEDBACK_ID', `transient-${n}`);
      for (const n of [1, 2]) {
        expect(await (await sns(notification(transient(n)))).json()).toMatchObject({ outcomes: ['counted'] });
        expect(await status('full@example.org')).toBe('active');
      }
      expect(await (await sns(notification(transient(3)))).json()).toMatchObject({ outcomes: ['suppressed'] });
      expect(await status('full@example.org')).toBe('bounced');
      expect(await suppression('full@example.org')).toEqual({ reason: 'soft_bounces', source: 'ses' });
    });
  });

  describe('Postmark', () => {
    const auth = (creds: string) => ({ 'content-type': 'application/json', authorization: `Basic ${Buffer.from(creds).toString('base64')}` });

    it('when the basic-auth credentials are missing or wrong, then it is refused', async () => {
      expect((await post('/webhooks/postmark', fixture('postmark-bounce-hard.json'), { 'content-type': 'application/json' })).status).toBe(401);
      expect((await post('/webhooks/postmark', fixture('postmark-bounce-hard.json'), auth('hooks:guess-guess-guess'))).status).toBe(401);
      expect(await status('hard@example.org')).toBe('active');
    });

    it('when a hard bounce and a spam complaint arrive, then both are suppressed; an auto-reply is ignored; a replay changes nothing', async () => {
      expect((await post('/webhooks/postmark', fixture('postmark-bounce-hard.json'), auth(POSTMARK))).status).toBe(200);
      expect(await status('hard@example.org')).toBe('bounced');
      expect(await (await post('/webhooks/postmark', fixture('postmark-bounce-hard.json'), auth(POSTMARK))).json()).toMatchObject({ outcomes: ['duplicate'] });
      await post('/webhooks/postmark', fixture('postmark-spam-complaint.json'), auth(POSTMARK));
      expect(await consent('angry@example.org')).toContainEqual({ event: 'complained', method: 'postmark' });
      expect(await (await post('/webhooks/postmark', fixture('postmark-autoresponder.json'), auth(POSTMARK))).json()).toMatchObject({ events: 0 });
      expect(await status('vacation@example.org')).toBe('active');
    });
  });

  describe('Mailgun', () => {
    const signed = (name: string, { timestamp = String(Math.floor(Date.now() / 1000)), key = MAILGUN_KEY } = {}) => {
      const token = randomUUID().replace(/-/g, '');
      const signature = createHmac('sha256', key).update(timestamp + token).digest('hex');
      return fixture(name).replace('"TIMESTAMP"', JSON.stringify(timestamp)).replace('"TOKEN"', JSON.stringify(token)).replace('"SIGNATURE"', JSON.stringify(signature));
    };
    const mg = (body: string) => post('/webhooks/mailgun', body, { 'content-type': 'application/json' });

    it('when the HMAC is right and fresh, then a permanent failure and a complaint suppress; a replay changes nothing', async () => {
      const body = signed('mailgun-failed-permanent.json');
      expect((await mg(body)).status).toBe(200);
      expect(await status('hard@example.org')).toBe('bounced');
      expect(await consent('hard@example.org')).toContainEqual({ event: 'bounced', method: 'mailgun' });
      expect(await (await mg(body)).json()).toMatchObject({ outcomes: ['duplicate'] });
      await mg(signed('mailgun-complained.json'));
      expect(await consent('angry@example.org')).toContainEqual({ event: 'complained', method: 'mailgun' });
    });

    it('when signed with another key, or with a timestamp from an hour ago, then it is refused', async () => {
      expect((await mg(signed('mailgun-failed-permanent.json', { key: 'key-not-ours-0000000000000000' }))).status).toBe(403);
      expect((await mg(signed('mailgun-failed-permanent.json', { timestamp: String(Math.floor(Date.now() / 1000) - 3600) }))).status).toBe(403);
      expect((await mg('{"event-data":{}}')).status).toBe(400);
      expect(await status('hard@example.org')).toBe('active');
    });
  });

  describe('SendGrid', () => {
    const sign = (body: string, timestamp = String(Math.floor(Date.now() / 1000))) => {
      const s = createSign('sha256');
      s.update(timestamp + body);
      return { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': s.sign(sendgrid.privateKey, 'base64'), 'x-twilio-email-event-webhook-timestamp': timestamp };
    };

    it('when a signed batch arrives, then bounces and spam reports act and the rest is left alone', async () => {
      const body = fixture('sendgrid-events.json');
      const res = await post('/webhooks/sendgrid', body, sign(body));
      expect(res.status).toBe(200);
      expect(await status('hard@example.org')).toBe('bounced');
      expect(await status('angry@example.org')).toBe('bounced');
      expect(await consent('angry@example.org')).toContainEqual({ event: 'complained', method: 'sendgrid' });
      expect(await status('blocked@example.org')).toBe('active');
      expect(await status('slow@example.org')).toBe('active');
      expect(await status('ok@example.org')).toBe('active');
      expect(await (await post('/webhooks/sendgrid', body, sign(body))).json()).toMatchObject({ outcomes: ['duplicate', 'duplicate', 'duplicate'] });
    });

    it('when the body differs from what was signed, or the signature is stale, then it is refused', async () => {
      const body = fixture('sendgrid-events.json');
      expect((await post('/webhooks/sendgrid', body.replace('hard@', 'ok@'), sign(body))).status).toBe(403);
      const old = String(Math.floor(Date.now() / 1000) - 3600);
      expect((await post('/webhooks/sendgrid', body, sign(body, old))).status).toBe(403);
      expect((await post('/webhooks/sendgrid', body, { 'content-type': 'application/json' })).status).toBe(403);
      expect(await status('hard@example.org')).toBe('active');
      expect(await status('ok@example.org')).toBe('active');
    });
  });

  it('when a provider has no secret configured, then its endpoint does not exist', async () => {
    const bare = await startPaperboy();
    try {
      for (const p of ['ses', 'postmark', 'mailgun', 'sendgrid']) expect((await fetch(`${bare.url}/webhooks/${p}`, { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      await bare.stop();
    }
  });
});
