// A real 10-paper digest over the sample corpus, for tests that look at the rendered email.
import type { Database_ } from '../../src/db/client.js';
import { ledgerPapers, createCandidateIndex } from '../../src/digests/candidate-index.js';
import { buildDigest } from '../../src/digests/digest-builder.js';
import { composeDigest, type DigestContext } from '../../src/email/digest-email.js';
import { compileEmailTemplates } from '../../src/email/email-templates.js';
import { createLinks } from '../../src/subscribers/links.js';
import { insertSubscriber, type Subscriber } from '../../src/subscribers/subscriber-repo.js';
import type { OutgoingMail } from '../../src/email/mailer.js';

/** A broad reader (three topics and two keywords) and their 10-paper digest over the sample corpus. */
export async function tenPaperDigest(database: Database_, email = 'height@example.org'): Promise<{ mail: OutgoingMail; subscriber: Subscriber; ctx: DigestContext }> {
  const now = new Date();
  const subscriber = await insertSubscriber(database, email, 'active', {
    topics: ['agents', 'diffusion-models', 'reinforcement-learning'], keywords: ['sparse autoencoders', 'GRPO'], exclude: [],
    frequency: 'daily', weekday: 1, hour: 8, timezone: 'Europe/Berlin', maxPapers: 10,
  }, now.toISOString());
  const index = await createCandidateIndex(database, '2000-01-01T00:00:00.000Z', now);
  const items = buildDigest(index, subscriber, { since: '2000-01-01T00:00:00.000Z', now, limit: 10, alreadySent: () => false });
  const ctx: DigestContext = { render: await compileEmailTemplates(), links: createLinks('test-secret-test-secret-test-secret-0123', 'https://paperboy.example'), listIdDomain: 'paperboy.example', blocks: new Map(), stats: index.stats };
  const mail = composeDigest(ctx, subscriber, '2026-12-01', await ledgerPapers(database, items), now, '<x@paperboy.example>');
  return { mail, subscriber, ctx };
}
