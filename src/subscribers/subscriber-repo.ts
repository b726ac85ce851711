import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Database_ } from '../db/client.js';
import { consentEvents, outboundMail, subscribers } from '../db/schema.js';
import type { Preferences } from './subscription-input.js';

export type Subscriber = typeof subscribers.$inferSelect;
export type SubscriberStatus = Subscriber['status'];
export type OutboundRow = typeof outboundMail.$inferSelect;

/** Where a consent event came from. */
export interface ConsentContext {
  method: string;
  ip?: string | null;
  userAgent?: string | null;
}

/** A subscriber as `subscribers list --json` prints it. */
export function publicSubscriber(s: Subscriber) {
  return {
    email: s.email,
    status: s.status,
    topics: s.topics,
    keywords: s.keywords,
    exclude: s.exclude,
    frequency: s.frequency,
    weekday: s.weekday,
    hour: s.hour,
    timezone: s.timezone,
    maxPapers: s.maxPapers,
  };
}

/** Subscriber by address (case-insensitive). */
export function findByEmail({ db }: Database_, email: string): Subscriber | undefined {
  return db.select().from(subscribers).where(eq(subscribers.email, email)).get();
}

/** Subscriber by id. */
export function findById({ db }: Database_, id: number): Subscriber | undefined {
  return db.select().from(subscribers).where(eq(subscribers.id, id)).get();
}

/** Every subscriber, oldest first, optionally of some statuses. */
export function listSubscribers({ db }: Database_, statuses?: SubscriberStatus[]): Subscriber[] {
  const q = db.select().from(subscribers);
  return (statuses ? q.where(inArray(subscribers.status, statuses)) : q).orderBy(asc(subscribers.id)).all();
}

/** Creates a subscriber and returns it. */
export function insertSubscriber(
  { db }: Database_,
  email: string,
  status: SubscriberStatus,
  prefs: Preferences,
  now: string,
): Subscriber {
  return db
    .insert(subscribers)
    .values({ email, status, ...prefs, createdAt: now, updatedAt: now, confirmedAt: status === 'active' ? now : null })
    .returning()
    .get();
}

/** Updates columns of one subscriber. */
export function updateSubscriber({ db }: Database_, id: number, patch: Partial<Subscriber>, now: string): Subscriber {
  return db
    .update(subscribers)
    .set({ ...patch, updatedAt: now })
    .where(eq(subscribers.id, id))
    .returning()
    .get();
}

/** Deletes a subscriber and everything that hangs off it. */
export function deleteSubscriber({ db }: Database_, id: number): void {
  db.delete(subscribers).where(eq(subscribers.id, id)).run();
}

/** Appends to the consent log. */
export function logConsent({ db }: Database_, subscriberId: number, event: string, ctx: ConsentContext, now: string): void {
  db.insert(consentEvents)
    .values({ subscriberId, event, method: ctx.method, ip: ctx.ip ?? null, userAgent: ctx.userAgent?.slice(0, 300) ?? null, at: now })
    .run();
}

/** The consent log of one subscriber, oldest first. */
export function consentLog({ db }: Database_, subscriberId: number) {
  return db.select().from(consentEvents).where(eq(consentEvents.subscriberId, subscriberId)).orderBy(asc(consentEvents.id)).all();
}

/** How many transactional mails were queued for an address since `since`. */
export function countMailSince({ db }: Database_, recipient: string, since: string): number {
  return db
    .select({ n: sql<number>`count(*)` })
    .from(outboundMail)
    .where(and(eq(outboundMail.recipient, recipient), gte(outboundMail.createdAt, since)))
    .get()!.n;
}

/** Queues a transactional mail. */
export function enqueueMail({ db }: Database_, kind: string, subscriberId: number, recipient: string, now: string): void {
  db.insert(outboundMail).values({ kind, subscriberId, recipient, nextAttemptAt: now, createdAt: now }).run();
}

/** Claims the next due queued mail (atomically, so two workers never send one mail twice). */
export function claimDueMail(database: Database_, now: string, staleBefore: string): OutboundRow | undefined {
  const { db } = database;
  return database.sqlite
    .transaction(() => {
      // A worker that died mid-send leaves 'sending' rows behind; give them another go.
      db.update(outboundMail)
        .set({ status: 'queued' })
        .where(and(eq(outboundMail.status, 'sending'), lte(outboundMail.nextAttemptAt, staleBefore)))
        .run();
      const row = db
        .select()
        .from(outboundMail)
        .where(and(eq(outboundMail.status, 'queued'), lte(outboundMail.nextAttemptAt, now)))
        .orderBy(asc(outboundMail.nextAttemptAt))
        .limit(1)
        .get();
      if (!row) return undefined;
      db.update(outboundMail).set({ status: 'sending', nextAttemptAt: now }).where(eq(outboundMail.id, row.id)).run();
      return row;
    })
    .immediate();
}

/** Records the outcome of one transactional send. */
export function finishMail({ db }: Database_, id: number, patch: Partial<OutboundRow>): void {
  db.update(outboundMail).set(patch).where(eq(outboundMail.id, id)).run();
}
