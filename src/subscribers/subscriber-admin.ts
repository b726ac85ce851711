import type { Database_ } from '../db/client.js';
import { AppError } from '../errors.js';
import type { CsvSubscriber } from './subscriber-csv.js';
import {
  deleteSubscriber,
  enqueueMail,
  findByEmail,
  insertSubscriber,
  logConsent,
  updateSubscriber,
  type SubscriberStatus,
} from './subscriber-repo.js';
import type { Preferences } from './subscription-input.js';

/** Operator adds one subscriber: active when consent was obtained elsewhere (`confirmed`), else pending with a confirmation email. */
export function addSubscriber(database: Database_, email: string, prefs: Preferences, confirmed: boolean, now: Date) {
  const at = now.toISOString();
  return database.sqlite
    .transaction(() => {
      if (findByEmail(database, email)) throw new AppError('bad_request', `${email} is already a subscriber`);
      const s = insertSubscriber(database, email, confirmed ? 'active' : 'pending', prefs, at);
      logConsent(database, s.id, confirmed ? 'confirmed' : 'subscribe_requested', { method: 'cli' }, at);
      if (!confirmed) enqueueMail(database, 'confirm', s.id, email, at);
      return s;
    })
    .immediate();
}

/**
 * Imports validated CSV rows in one transaction. With `confirmed`, rows keep
 * their status (default active); without it, everyone not unsubscribed or
 * bounced becomes pending and is asked to confirm.
 */
export function importSubscribers(database: Database_, rows: CsvSubscriber[], confirmed: boolean, now: Date) {
  const at = now.toISOString();
  const counts = { added: 0, updated: 0, confirmationsQueued: 0 };
  database.sqlite
    .transaction(() => {
      for (const row of rows) {
        const suppressed = row.status === 'unsubscribed' || row.status === 'bounced';
        const status: SubscriberStatus = suppressed ? row.status! : confirmed ? (row.status ?? 'active') : 'pending';
        const existing = findByEmail(database, row.email);
        const s = existing
          ? updateSubscriber(database, existing.id, { ...row.preferences, status, confirmedAt: existing.confirmedAt ?? (status === 'active' ? at : null) }, at)
          : insertSubscriber(database, row.email, status, row.preferences, at);
        counts[existing ? 'updated' : 'added']++;
        logConsent(database, s.id, `imported_${status}`, { method: confirmed ? 'csv-confirmed' : 'csv' }, at);
        if (status === 'pending' && existing?.status !== 'pending') {
          enqueueMail(database, 'confirm', s.id, s.email, at);
          counts.confirmationsQueued++;
        }
      }
    })
    .immediate();
  return counts;
}

/** Deletes a subscriber and all their data (consent log, deliveries); false when unknown. */
export function removeSubscriber(database: Database_, email: string): boolean {
  const s = findByEmail(database, email);
  if (s) deleteSubscriber(database, s.id);
  return Boolean(s);
}
