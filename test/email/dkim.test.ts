import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createMailer } from '../../src/email/mailer.js';
import { startSmtp, tempDir } from '../helpers.js';

describe('DKIM signing', () => {
  const tmp = tempDir();
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  beforeAll(async () => (smtp = await startSmtp()));
  afterAll(async () => {
    await smtp.close();
    tmp.cleanup();
  });

  it('signs List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 needs both in h=)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPath = join(tmp.dir, 'dkim.pem');
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const mailer = createMailer(loadConfig({ SMTP_URL: smtp.url, MAIL_FROM: 'Paperboy <news@paperboy.example>', DKIM_DOMAIN: 'paperboy.example', DKIM_SELECTOR: 'pb1', DKIM_PRIVATE_KEY_PATH: keyPath }));
    try {
      await mailer.send({
        to: 'reader@example.org',
        subject: 'Digest\r\nBcc: evil@example.org',
        html: '<p>Grüße — “quoted” = signs, a line long enough to be folded by quoted-printable soft breaks, and more.</p>\n.leading dot  \n',
        text: 'Grüße\r\n.leading dot\nend  ',
        headers: { 'List-Unsubscribe': '<https://paperboy.example/unsubscribe/abc>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
      const [mail] = await smtp.waitFor(1);
      const signature = /^DKIM-Signature:([\s\S]*?)\r?\n(?=\S)/m.exec(mail!.raw)![1]!.replace(/\s+/g, '');
      expect(signature).toContain('d=paperboy.example');
      expect(signature).toContain('s=pb1');
      const signed = /(?:^|;)h=([^;]+)/.exec(signature)![1]!.toLowerCase().split(':');
      expect(signed).toEqual(expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post']));
      // The signature verifies: headers and the body we encode ourselves hash as signed.
      const dnsKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const resolver = async (name: string) => {
        if (name !== 'pb1._domainkey.paperboy.example') throw Object.assign(new Error('no such record'), { code: 'ENOTFOUND' });
        return [[`v=DKIM1; k=rsa; p=${dnsKey}`]];
      };
      const results = (raw: string) => dkimVerify(Buffer.from(raw), { resolver }).then((v: { results: { status: { result: string } }[] }) => v.results.map((r) => r.status.result));
      expect(await results(mail!.raw)).toEqual(['pass']);
      expect(await results(mail!.raw.replace('Gr=C3=BC', 'Gr=C3=B6'))).not.toEqual(['pass']);
      // CR/LF in a header value never becomes a header of its own.
      expect(mail!.envelopeTo).toEqual(['reader@example.org']);
      expect(mail!.raw).not.toMatch(/^Bcc:/im);
    } finally {
      mailer.close();
    }
  });
});
