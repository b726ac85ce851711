// Builds the benchmark's database in its own process, so the memory the bulk
// inserts leave behind is not counted against the digest pipeline's peak RSS.
// Usage: build-workload.ts DB_PATH SUBSCRIBERS NEW_PAPERS OLD_PAPERS NOW_ISO
import { readFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';
import { parsePaperboyJsonl } from '../src/papers/parsers/paperboy-json.js';
import { upsertPapers } from '../src/papers/paper-repo.js';
import { SAMPLE_CORPUS } from '../src/papers/sample-corpus.js';
import { insertPapers, insertReaderSignals, insertSubscribers } from './workload.js';

const [path, subscribers, newPapers, oldPapers, nowIso] = process.argv.slice(2);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const now = new Date(nowIso!);
const database = await openDatabase(path!);
const sqlite = database.sqlite!;
const corpus = parsePaperboyJsonl(readFileSync(SAMPLE_CORPUS, 'utf8'), 'sample');
await upsertPapers(database, corpus, new Date(now.getTime() - 400 * DAY).toISOString());
const texts = corpus.map(({ title, abstract }) => ({ title, abstract }));
insertPapers(sqlite, texts, Number(oldPapers), now.getTime() - 400 * DAY, now.getTime() - 10 * DAY, 1, '2301');
insertPapers(sqlite, texts, Number(newPapers), now.getTime() - DAY, now.getTime() - HOUR, 2, '2611');
insertSubscribers(sqlite, texts, Number(subscribers), now, 3);
// One reader in ten has rated papers, follows a seed paper and an author (issue 14).
insertReaderSignals(sqlite, 0.1, 4);
await database.close();
