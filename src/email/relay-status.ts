import type { Sql } from '../db/sql.js';
import type { FailureKind } from './smtp-failure.js';

/** The last time the relay refused or failed us, as `stats` shows it. */
export interface RelayFailure {
  at: string;
  /** Which sender saw it: the digest run or the transactional queue. */
  source: 'digest' | 'outbound';
  kind: Exclude<FailureKind, 'recipient'>;
  reason: string;
  /** The relay's answer, addresses masked. */
  error: string;
}

/** What `stats` reports about the relay: `alert` while the last failure is newer than the last success. */
export interface RelayStatus {
  alert: boolean;
  lastError: RelayFailure | null;
  lastSuccessAt: string | null;
}

const ERROR_KEY = 'relay_last_error';
const OK_KEY = 'relay_last_ok';
const UPSERT = 'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

/** Records a relay failure (kept in settings; one row, overwritten). */
export async function recordRelayFailure(database: Sql, failure: RelayFailure): Promise<void> {
  await database.run(UPSERT, [ERROR_KEY, JSON.stringify(failure)]);
}

/** Records that the relay accepted mail at `at` (once per run or queue round, not per message). */
export async function recordRelaySuccess(database: Sql, at: string): Promise<void> {
  await database.run(UPSERT, [OK_KEY, at]);
}

/** The relay's last failure and success. */
export async function relayStatus(database: Sql): Promise<RelayStatus> {
  const get = async (key: string) => (await database.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))?.value ?? null;
  const raw = await get(ERROR_KEY);
  const lastError = raw ? (JSON.parse(raw) as RelayFailure) : null;
  const lastSuccessAt = await get(OK_KEY);
  return { alert: Boolean(lastError && (!lastSuccessAt || lastError.at > lastSuccessAt)), lastError, lastSuccessAt };
}
