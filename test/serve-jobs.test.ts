import { afterEach, describe, expect, it } from 'vitest';
import { serveJobs } from '../src/main.js';
import { startPaperboy } from './helpers.js';

// A web node with SCHEDULER=false used to schedule nothing at all, so the
// confirmations and webhooks it queued were retried only if some other node ran.
describe('the jobs a serve node schedules', () => {
  let app: Awaited<ReturnType<typeof startPaperboy>> | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('with SCHEDULER=false: only its mail and webhook queues', async () => {
    app = await startPaperboy({ SCHEDULER: 'false' });
    expect(serveJobs(app).map((j) => j.name).sort()).toEqual(['outbound-mail', 'webhooks']);
  });

  it('by default: ingest, digests and silence notes as well', async () => {
    app = await startPaperboy();
    expect(serveJobs(app).map((j) => j.name).sort()).toEqual(['digests', 'ingest', 'outbound-mail', 'silence-notes', 'webhooks']);
  });
});
