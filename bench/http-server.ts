// The real app in its own process for the HTTP benchmark: rate limits lifted,
// mail to the SMTP sink. Sends its port to the parent over IPC.
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { appFor, createServices } from '../src/main.js';
import { loadSampleIfEmpty } from '../src/papers/sample-corpus.js';

const [dir, smtpUrl] = process.argv.slice(2);
const config = loadConfig({ DATABASE_PATH: `${dir}/http.db`, OUTBOX_DIR: `${dir}/outbox`, SMTP_URL: smtpUrl, SECRET: 'bench-secret-bench-secret-bench-secret', LOG_LEVEL: 'silent', RATE_LIMITS: 'false' });
const s = await createServices(config, pino({ level: 'silent' }));
loadSampleIfEmpty(s.database, new Date());
const server = appFor(s).listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('message', (m) => {
  if (m === 'stop') server.close(() => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
