import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// Mirrors migrations/*.sql (the migrations are the source of truth; a test
// checks that every column here exists there). The FTS5 table papers_fts is
// created by SQL only and queried with raw SQL.

const jsonList = (name: string) => text(name, { mode: 'json' }).$type<string[]>().notNull().default([]);

export const papers = sqliteTable('papers', {
  pk: integer('pk').primaryKey(),
  id: text('id').notNull().unique(),
  titleKey: text('title_key').notNull(),
  title: text('title').notNull(),
  abstract: text('abstract').notNull().default(''),
  authors: jsonList('authors'),
  authorCount: integer('author_count'),
  organization: text('organization'),
  publishedAt: text('published_at'),
  listedOn: text('listed_on'),
  upvotes: integer('upvotes').notNull().default(0),
  comments: integer('comments').notNull().default(0),
  keywords: jsonList('keywords'),
  urlPage: text('url_page'),
  urlAbs: text('url_abs'),
  urlPdf: text('url_pdf'),
  urlCode: text('url_code'),
  source: text('source').notNull(),
  firstSeenAt: text('first_seen_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  // Which source's author list this is (AUTHOR_RANK in papers/paper-record.ts); 0 before migration 0005.
  authorsRank: integer('authors_rank').notNull().default(0),
});

export const subscribers = sqliteTable('subscribers', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').notNull().unique(),
  status: text('status', { enum: ['pending', 'active', 'paused', 'unsubscribed', 'bounced'] }).notNull(),
  topics: jsonList('topics'),
  keywords: jsonList('keywords'),
  exclude: jsonList('exclude'),
  // Seed papers (arXiv ids, links or titles, as the reader gave them) and followed authors: migration 0010.
  seeds: jsonList('seeds'),
  authors: jsonList('authors'),
  frequency: text('frequency', { enum: ['daily', 'weekly'] }).notNull().default('daily'),
  weekday: integer('weekday').notNull().default(1),
  hour: integer('hour').notNull().default(8),
  timezone: text('timezone').notNull().default('UTC'),
  maxPapers: integer('max_papers').notNull().default(10),
  tokenVersion: integer('token_version').notNull().default(1),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  confirmedAt: text('confirmed_at'),
  unsubscribedAt: text('unsubscribed_at'),
  // Random and never reused; every signed link names the subscriber by it (the database fills it in).
  linkKey: text('link_key').notNull().default(sql`(lower(hex(randomblob(16))))`),
  legacyLinks: integer('legacy_links', { mode: 'boolean' }).notNull().default(false),
  requestedPrefs: text('requested_prefs', { mode: 'json' }).$type<Record<string, unknown>>(),
});

export const consentEvents = sqliteTable('consent_events', {
  id: integer('id').primaryKey(),
  subscriberId: integer('subscriber_id')
    .notNull()
    .references(() => subscribers.id, { onDelete: 'cascade' }),
  event: text('event').notNull(),
  method: text('method').notNull(),
  ip: text('ip'),
  userAgent: text('user_agent'),
  at: text('at').notNull(),
});

export const outboundMail = sqliteTable('outbound_mail', {
  id: integer('id').primaryKey(),
  subscriberId: integer('subscriber_id').references(() => subscribers.id, { onDelete: 'cascade' }),
  kind: text('kind').notNull(),
  recipient: text('recipient').notNull(),
  status: text('status', { enum: ['queued', 'sending', 'sent', 'failed'] }).notNull().default('queued'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: text('next_attempt_at').notNull(),
  lastError: text('last_error'),
  createdAt: text('created_at').notNull(),
  sentAt: text('sent_at'),
});

export const deliveries = sqliteTable('deliveries', {
  id: integer('id').primaryKey(),
  subscriberId: integer('subscriber_id')
    .notNull()
    .references(() => subscribers.id, { onDelete: 'cascade' }),
  periodKey: text('period_key').notNull(),
  status: text('status', { enum: ['sending', 'sent', 'skipped', 'failed'] }).notNull(),
  messageId: text('message_id').notNull(),
  items: text('items').notNull().default('[]'),
  since: text('since').notNull(),
  leaseOwner: text('lease_owner'),
  leaseUntil: text('lease_until'),
  attempts: integer('attempts').notNull().default(0),
  error: text('error'),
  createdAt: text('created_at').notNull(),
  finishedAt: text('finished_at'),
  /** The reader's preferences when claimed (JSON, migration 0009): the web copy shows them. */
  prefs: text('prefs'),
});

export const sentPapers = sqliteTable(
  'sent_papers',
  {
    subscriberId: integer('subscriber_id').notNull(),
    paperPk: integer('paper_pk').notNull(),
    deliveryId: integer('delivery_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subscriberId, t.paperPk] })],
);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

export const tables = { papers, subscribers, consentEvents, outboundMail, deliveries, sentPapers, settings };
