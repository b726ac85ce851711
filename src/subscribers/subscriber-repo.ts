import { and, asc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import { preparedOnce, type Database_ } from '../db/client.js';
import { consentEvents, outboundMail, subscribers } from '../db/schema.js';
import type { Preferences } from './subscription-input.js';
import { withQueuedUnsubscribes } from './unsubscribe-queue.js';

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
    seeds: s.seeds,
    authors: s.authors,
    frequency: s.frequency,
    weekday: s.weekday,
    hour: s.hour,
    timezone: s.timezone,
    maxPapers: s.maxPapers,
  };
}

/** Subscriber by address (case-insensitive). */
export function findByEmail(database: Database_, email: string): Subscriber | undefined {
  return preparedOnce(database, 'subscriberByEmail', (db) =>
    db.select().from(subscribers).where(eq(subscribers.email, sql.placeholder('email'))).prepare(),
  ).get({ email });
}

/** Subscriber by id. */
export function findById(database: Database_, id: number): Subscriber | undefined {
  return preparedOnce(database, 'subscriberById', (db) => db.select().from(subscribers).where(eq(subscribers.id, sql.placeholder('id'))).prepare()).get({ id });
}

/** Subscriber by link key (the random, never reused key every signed link names). */
export function findByLinkKey(database: Database_, key: string): Subscriber | undefined {
  return preparedOnce(database, 'subscriberByLinkKey', (db) =>
    db.select().from(subscribers).where(eq(subscribers.linkKey, sql.placeholder('key'))).prepare(),
  ).get({ key });
}

/** Every subscriber, oldest first, optionally of some statuses. */
export function listSubscribers({ db }: Database_, statuses?: SubscriberStatus[]): Subscriber[] {
  const q = db.select().from(subscribers);
  return (statuses ? q.where(inArray(subscribers.status, statuses)) : q).orderBy(asc(subscribers.id)).all();
}

/** Just the schedule of every subscriber of a status, by id: small enough to hold for 100,000 readers. */
export function subscriberSchedules(database: Database_, status: SubscriberStatus) {
  const rows = database.sqlite
    .prepare('SELECT id, frequency, weekday, hour, timezone, confirmed_at AS confirmedAt FROM subscribers WHERE status = ? ORDER BY id')
    .all(status);
  return rows as Pick<Subscriber, 'id' | 'frequency' | 'weekday' | 'hour' | 'timezone' | 'confirmedAt'>[];
}

/**
 * Subscribers by id, in id order. Readers whose unsubscribe is still waiting in
 * the unsubscribe queue (the database was busy when they clicked) come back as
 * unsubscribed, so a digest run never mails them.
 */
export function subscribersByIds(database: Database_, ids: number[]): Subscriber[] {
  const rows = ids.length ? database.db.select().from(subscribers).where(inArray(subscribers.id, ids)).orderBy(asc(subscribers.id)).all() : [];
  return withQueuedUnsubscribes(database, rows);
}

/** Creates a subscriber and returns it. */
export function insertSubscriber(database: Database_, email: string, status: SubscriberStatus, prefs: Omit<Preferences, 'seeds' | 'authors'> & Partial<Pick<Preferences, 'seeds' | 'authors'>>, now: string): Subscriber {
  const insert = preparedOnce(database, 'insertSubscriber', (db) => {
    const columns = ['email', 'status', 'topics', 'keywords', 'exclude', 'seeds', 'authors', 'frequency', 'weekday', 'hour', 'timezone', 'maxPapers', 'createdAt', 'updatedAt', 'confirmedAt'] as const;
    return db
      .insert(subscribers)
      // Placeholders go through each column's encoder (the JSON lists too); drizzle's types do not say so.
      .values(Object.fromEntries(columns.map((c) => [c, sql.placeholder(c)])) as unknown as typeof subscribers.$inferInsert)
      .returning()
      .prepare();
  });
  return insert.get({ email, status, seeds: [], authors: [], ...prefs, createdAt: now, updatedAt: now, confirmedAt: status === 'active' ? now : null })!;
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
export function logConsent(database: Database_, subscriberId: number, event: string, ctx: ConsentContext, now: string): void {
  const insert = preparedOnce(database, 'logConsent', (db) =>
    db
      .insert(consentEvents)
      .values({ subscriberId: sql.placeholder('subscriberId'), event: sql.placeholder('event'), method: sql.placeholder('method'), ip: sql.placeholder('ip'), userAgent: sql.placeholder('userAgent'), at: sql.placeholder('at') })
      .prepare(),
  );
  insert.run({ subscriberId, event, method: ctx.method, ip: ctx.ip ?? null, userAgent: ctx.userAgent?.slice(0, 300) ?? null, at: now });
}

/** The consent log of one subscriber, oldest first. */
export function consentLog({ db }: Database_, subscriberId: number) {
  return db.select().from(consentEvents).where(eq(consentEvents.subscriberId, subscriberId)).orderBy(asc(consentEvents.id)).all();
}

/** How many transactional mails were queued for an address since `since`. */
export function countMailSince(database: Database_, recipient: string, since: string): number {
  const count = preparedOnce(database, 'countMailSince', (db) =>
    db
      .select({ n: sql<number>`count(*)` })
      .from(outboundMail)
      .where(and(eq(outboundMail.recipient, sql.placeholder('recipient')), gte(outboundMail.createdAt, sql.placeholder('since'))))
      .prepare(),
  );
  return count.get({ recipient, since })!.n;
}

/** Queues a transactional mail. */
export function enqueueMail(database: Database_, kind: string, subscriberId: number, recipient: string, now: string): void {
  const insert = preparedOnce(database, 'enqueueMail', (db) =>
    db
      .insert(outboundMail)
      .values({ kind: sql.placeholder('kind'), subscriberId: sql.placeholder('subscriberId'), recipient: sql.placeholder('recipient'), nextAttemptAt: sql.placeholder('now'), createdAt: sql.placeholder('now') })
      .prepare(),
  );
  insert.run({ kind, subscriberId, recipient, now });
}

/** Claims the next due queued mail (atomically, so two workers never send one mail twice). */
export function claimDueMail(database: Database_, now: string, staleBefore: string): OutboundRow | undefined {
  const q = preparedOnce(database, 'claimDueMail', (db) => ({
    // A worker that died mid-send leaves 'sending' rows behind; give them another go.
    revive: db
      .update(outboundMail)
      .set({ status: 'queued' })
      .where(and(eq(outboundMail.status, 'sending'), lte(outboundMail.nextAttemptAt, sql.placeholder('staleBefore'))))
      .prepare(),
    next: db
      .select()
      .from(outboundMail)
      .where(and(eq(outboundMail.status, 'queued'), lte(outboundMail.nextAttemptAt, sql.placeholder('now'))))
      .orderBy(asc(outboundMail.nextAttemptAt))
      .limit(1)
      .prepare(),
    take: db.update(outboundMail).set({ status: 'sending', nextAttemptAt: sql`${sql.placeholder('now')}` }).where(eq(outboundMail.id, sql.placeholder('id'))).prepare(),
  }));
  return database.sqlite
    .transaction(() => {
      q.revive.run({ staleBefore });
      const row = q.next.get({ now });
      if (!row) return undefined;
      q.take.run({ now, id: row.id });
      return row;
    })
    .immediate();
}

/** Records the outcome of one transactional send. */
export function finishMail({ db }: Database_, id: number, patch: Partial<OutboundRow>): void {
  db.update(outboundMail).set(patch).where(eq(outboundMail.id, id)).run();
}
