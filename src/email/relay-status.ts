import type { Database_ } from '../db/client.js';
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
export function recordRelayFailure({ sqlite }: Database_, failure: RelayFailure): void {
  sqlite.prepare(UPSERT).run(ERROR_KEY, JSON.stringify(failure));
}

/** Records that the relay accepted mail at `at` (once per run or queue round, not per message). */
export function recordRelaySuccess({ sqlite }: Database_, at: string): void {
  sqlite.prepare(UPSERT).run(OK_KEY, at);
}

/** The relay's last failure and success. */
export function relayStatus({ sqlite }: Database_): RelayStatus {
  const get = (key: string) => (sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
  const raw = get(ERROR_KEY);
  const lastError = raw ? (JSON.parse(raw) as RelayFailure) : null;
  const lastSuccessAt = get(OK_KEY);
  return { alert: Boolean(lastError && (!lastSuccessAt || lastError.at > lastSuccessAt)), lastError, lastSuccessAt };
}
