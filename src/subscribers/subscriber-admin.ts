import { emailHash, forgetSuppression, suppressionOf } from '../bounces/suppression.js';
import type { Database_ } from '../db/client.js';
import { AppError, isUniqueViolation } from '../errors.js';
import type { CsvSubscriber } from './subscriber-csv.js';
import {
  deleteSubscriber,
  enqueueMail,
  findByEmail,
  insertSubscriber,
  lockAddress,
  logConsent,
  updateSubscriber,
  type Subscriber,
  type SubscriberStatus,
} from './subscriber-repo.js';
import type { Preferences } from './subscription-input.js';

/** Operator adds one subscriber: active when consent was obtained elsewhere (`confirmed`), else pending with a confirmation email. */
export function addSubscriber(database: Database_, email: string, prefs: Preferences, confirmed: boolean, now: Date): Promise<Subscriber> {
  const at = now.toISOString();
  return database.tx(async (t) => {
    // A web signup for the same address at the same moment waits, so this reports "already a subscriber" rather than a constraint error.
    await lockAddress(t, email);
    if (await findByEmail(t, email)) throw new AppError('bad_request', `${email} is already a subscriber`);
    const suppressed = await suppressionOf(t, email);
    if (suppressed) throw new AppError('bad_request', `${email} is on the suppression list (${suppressed.reason} from ${suppressed.source}, kept after its reader was deleted); lift it in the admin console (Suppressions, hash ${emailHash(email).slice(0, 12)}…) or import it with --override-suppression`);
    const s = await insertSubscriber(t, email, confirmed ? 'active' : 'pending', prefs, at);
    await logConsent(t, s.id, confirmed ? 'confirmed' : 'subscribe_requested', { method: 'cli' }, at);
    if (!confirmed) await enqueueMail(t, 'confirm', s.id, email, at);
    return s;
  });
}

/** How `subscribers import` treats rows. */
export interface ImportOptions {
  /** Consent was obtained elsewhere: rows keep their status (default active) instead of being asked to confirm. */
  confirmed: boolean;
  /** Re-add addresses that unsubscribed or bounced (logged in the consent log as suppression_overridden). */
  overrideSuppression?: boolean;
}

/** Whether a row must not be mailed or re-activated by an import: unsubscribed, bounced, or asked back but not confirmed. */
export function isSuppressed(s: Pick<Subscriber, 'status' | 'unsubscribedAt'>): boolean {
  return s.status === 'unsubscribed' || s.status === 'bounced' || (s.status === 'pending' && s.unsubscribedAt !== null);
}

/**
 * Imports validated CSV rows in one transaction. With `confirmed`, rows keep
 * their status (default active); without it, everyone not unsubscribed or
 * bounced becomes pending and is asked to confirm. An address that unsubscribed
 * or bounced is left exactly as it is (status, preferences, no mail) unless
 * `overrideSuppression` is given; a file may always mark rows unsubscribed or bounced.
 */
export async function importSubscribers(database: Database_, rows: CsvSubscriber[], options: ImportOptions, now: Date) {
  // Another import or signup may insert one of these addresses between our
  // lookup and our insert (PostgreSQL; SQLite writes one at a time): the whole
  // file is rolled back, and tried again it finds those rows and updates them.
  for (let attempt = 1; ; attempt++) {
    try {
      return await importOnce(database, rows, options, now);
    } catch (err) {
      if (!isUniqueViolation(err) || attempt >= 3) throw err;
    }
  }
}

async function importOnce(database: Database_, rows: CsvSubscriber[], options: ImportOptions, now: Date) {
  const { confirmed, overrideSuppression = false } = options;
  const at = now.toISOString();
  const counts = { added: 0, updated: 0, suppressed: 0, overridden: 0, confirmationsQueued: 0 };
  const method = confirmed ? 'csv-confirmed' : 'csv';
  await database.tx(async (t) => {
    for (const row of rows) {
      const fileSuppresses = row.status === 'unsubscribed' || row.status === 'bounced';
      const existing = await findByEmail(t, row.email);
      // A deleted reader's bounce or complaint (a hash on the suppression list) suppresses like a bounced row.
      const deleted = !existing && !fileSuppresses && Boolean(await suppressionOf(t, row.email));
      const override = Boolean((deleted || (existing && isSuppressed(existing))) && !fileSuppresses);
      if (override && !overrideSuppression) {
        counts.suppressed++;
        continue;
      }
      const status: SubscriberStatus = fileSuppresses ? row.status! : confirmed ? (row.status ?? 'active') : 'pending';
      const patch = { ...row.preferences, status, requestedPrefs: null, confirmedAt: existing?.confirmedAt ?? (status === 'active' ? at : null) };
      const s = existing
        ? await updateSubscriber(t, existing.id, override ? { ...patch, unsubscribedAt: null } : patch, at)
        : await insertSubscriber(t, row.email, status, row.preferences, at);
      counts[existing ? 'updated' : 'added']++;
      if (override) {
        counts.overridden++;
        if (deleted) await forgetSuppression(t, row.email);
        await logConsent(t, s.id, `suppression_overridden_${existing?.status ?? 'deleted'}`, { method: `${method}-override-suppression` }, at);
      }
      await logConsent(t, s.id, `imported_${status}`, { method }, at);
      if (status === 'pending' && (existing?.status !== 'pending' || override)) {
        await enqueueMail(t, 'confirm', s.id, s.email, at);
        counts.confirmationsQueued++;
      }
    }
  });
  return counts;
}

/** Deletes a subscriber and all their data (consent log, deliveries); false when unknown. */
export async function removeSubscriber(database: Database_, email: string): Promise<boolean> {
  const s = await findByEmail(database, email);
  if (s) await deleteSubscriber(database, s.id);
  return Boolean(s);
}
