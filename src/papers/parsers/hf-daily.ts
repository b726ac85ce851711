import { z } from 'zod';
import { InputError } from '../../errors.js';
import { cleanPaper } from '../paper-clean.js';
import { arxivUrls, parseArxivId, type PaperInput } from '../paper-record.js';

const isoDay = (s: string | null | undefined) => (s && /^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : null);
const optionalUrl = z
  .string()
  .nullish()
  .transform((s) => (s && /^https?:\/\//i.test(s) ? s : null));

const HfRow = z.looseObject({
  paper: z.looseObject({
    id: z.string().min(1),
    title: z.string().trim().min(1),
    summary: z.string().default(''),
    authors: z.array(z.looseObject({ name: z.string().default('') })).default([]),
    publishedAt: z.string().nullish(),
    submittedOnDailyAt: z.string().nullish(),
    upvotes: z.number().int().min(0).default(0),
    ai_keywords: z.array(z.string()).nullish(),
    githubRepo: optionalUrl,
    projectPage: optionalUrl,
    withdrawnAt: z.string().nullish(),
  }),
  numComments: z.number().int().min(0).default(0),
  organization: z.looseObject({ fullname: z.string().optional(), name: z.string().optional() }).nullish(),
  publishedAt: z.string().nullish(),
});

/** Whether parsed JSON looks like a Hugging Face daily_papers answer. */
export function looksLikeHfDaily(data: unknown): boolean {
  return Array.isArray(data) && data.length > 0 && typeof data[0] === 'object' && data[0] !== null && 'paper' in data[0];
}

/** Hugging Face `GET /api/daily_papers` rows as paper inputs; withdrawn papers are left out. */
export function parseHfDaily(data: unknown, file: string): PaperInput[] {
  if (!Array.isArray(data)) throw new InputError(file, null, 'expected a JSON array of daily_papers rows');
  const out: PaperInput[] = [];
  data.forEach((raw, index) => {
    const parsed = HfRow.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InputError(file, `entry ${index + 1}`, `${issue.path.join('.')}: ${issue.message}`);
    }
    const { paper, numComments, organization } = parsed.data;
    if (paper.withdrawnAt) return;
    const arxivId = parseArxivId(paper.id);
    const names = paper.authors.map((a) => a.name.trim()).filter(Boolean);
    out.push(cleanPaper({
      arxivId,
      id: arxivId ? undefined : `hf-${paper.id}`,
      title: paper.title,
      // arXiv's hard line breaks, copied by Hugging Face, are not paragraphs.
      abstract: paper.summary.replace(/\s+/g, ' ').trim(),
      authors: names,
      authorCount: names.length || null,
      organization: organization?.fullname ?? organization?.name ?? null,
      publishedAt: isoDay(paper.publishedAt),
      listedOn: isoDay(paper.submittedOnDailyAt ?? parsed.data.publishedAt),
      upvotes: paper.upvotes,
      comments: numComments,
      keywords: paper.ai_keywords ?? [],
      urls: {
        ...(arxivId ? arxivUrls(arxivId) : { page: `https://huggingface.co/papers/${paper.id}`, abs: null, pdf: null }),
        code: paper.githubRepo ?? paper.projectPage ?? null,
      },
      source: 'hf',
    }, file, `entry ${index + 1}`));
  });
  return out;
}
