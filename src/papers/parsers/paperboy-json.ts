import { InputError } from '../../errors.js';
import { cleanPaper } from '../paper-clean.js';
import { inputFromRecord, PaperRecord, type PaperInput } from '../paper-record.js';

function validate(raw: unknown, file: string, where: string): PaperInput {
  const parsed = PaperRecord.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, where, `${issue.path.join('.') || 'record'}: ${issue.message}`);
  }
  return cleanPaper(inputFromRecord(parsed.data), file, where);
}

/** Paperboy JSON: an array of paper records (or a single record). */
export function parsePaperboyJson(data: unknown, file: string): PaperInput[] {
  const list = Array.isArray(data) ? data : [data];
  return list.map((raw, i) => validate(raw, file, `entry ${i + 1}`));
}

/** Paperboy JSON Lines: one paper record per line; blank lines are ignored. */
export function parsePaperboyJsonl(text: string, file: string): PaperInput[] {
  const out: PaperInput[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new InputError(file, `line ${i + 1}`, `invalid JSON (${(err as Error).message})`);
    }
    out.push(validate(raw, file, `line ${i + 1}`));
  });
  return out;
}
