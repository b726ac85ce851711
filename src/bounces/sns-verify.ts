import { createVerify, X509Certificate } from 'node:crypto';
import { z } from 'zod';

// Amazon SNS signs every message it POSTs (docs.aws.amazon.com/sns/latest/dg/
// sns-verify-signature-of-message.html): a canonical "Key\nValue\n" string of
// some fields, SHA1withRSA (SignatureVersion 1) or SHA256withRSA (2), with the
// certificate at SigningCertURL, which must be an https URL on an SNS host.
// Anyone can point an SNS topic at our endpoint, so the topic is checked too.

/** The envelope SNS POSTs (Content-Type text/plain, JSON body). */
export const SnsMessage = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().min(1),
  TopicArn: z.string().min(1),
  Message: z.string(),
  Timestamp: z.string().min(1),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1),
  SigningCertURL: z.string().min(1),
  Subject: z.string().optional(),
  Token: z.string().optional(),
  SubscribeURL: z.string().optional(),
});
export type SnsMessage = z.infer<typeof SnsMessage>;

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

/** The exact string SNS signed: field name and value on their own lines, in this order, absent fields left out. */
export function snsStringToSign(m: SnsMessage): string {
  const fields = m.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  return fields
    .filter((f) => m[f] !== undefined)
    .map((f) => `${f}\n${m[f]}\n`)
    .join('');
}

/** Where certificates may come from: Amazon's SNS hosts over https (tests pass their own host and allow http). */
export interface CertPolicy {
  host: RegExp;
  allowHttp: boolean;
}

/** Whether a URL (SigningCertURL, SubscribeURL) is one we may fetch. */
export function trustedSnsUrl(raw: string, policy: CertPolicy): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const schemeOk = url.protocol === 'https:' || (policy.allowHttp && url.protocol === 'http:');
  return schemeOk && policy.host.test(url.hostname) && !url.username && !url.password;
}

/** Verifies SNS signatures, fetching each signing certificate once (kept for the life of the verifier). */
export function createSnsVerifier(policy: CertPolicy, fetchTimeoutMs = 5000) {
  const certs = new Map<string, Promise<X509Certificate>>();
  const certificate = (url: string) => {
    let cert = certs.get(url);
    if (!cert) {
      cert = (async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(fetchTimeoutMs), redirect: 'error' });
        if (!res.ok) throw new Error(`signing certificate: HTTP ${res.status}`);
        return new X509Certificate(await res.text());
      })();
      certs.set(url, cert);
      cert.catch(() => certs.delete(url));
    }
    return cert;
  };

  return {
    /** True when SNS signed exactly this message with a certificate from a trusted SNS URL that is valid now. */
    async verify(m: SnsMessage, now: Date): Promise<boolean> {
      if (!trustedSnsUrl(m.SigningCertURL, policy)) return false;
      const cert = await certificate(m.SigningCertURL);
      if (Date.parse(cert.validTo) < now.getTime() || Date.parse(cert.validFrom) > now.getTime()) return false;
      const verifier = createVerify(m.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
      verifier.update(snsStringToSign(m), 'utf8');
      return verifier.verify(cert.publicKey, Buffer.from(m.Signature, 'base64'));
    },
  };
}
export type SnsVerifier = ReturnType<typeof createSnsVerifier>;
