/** Options for one fetch with retries. */
export interface FetchOptions {
  timeoutMs: number;
  retries: number;
  backoffMs?: number;
  headers?: Record<string, string>;
}

/** A source could not be read; `unreachable` means no HTTP answer at all. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const retryable = (status: number) => status === 429 || status >= 500;

/** GET with a timeout, retrying 429/5xx and network errors with exponential backoff (honours Retry-After). */
export async function fetchText(url: string, opts: FetchOptions): Promise<{ status: number; body: string }> {
  const backoff = opts.backoffMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    let delay = backoff * 2 ** attempt;
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(opts.timeoutMs),
        headers: { 'user-agent': 'paperboy (+https://github.com/paperboy)', ...opts.headers },
      });
      const body = await res.text();
      if (!retryable(res.status)) return { status: res.status, body };
      if (attempt >= opts.retries) throw new FetchError(`HTTP ${res.status} from ${url}`, res.status, false);
      const after = Number(res.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) delay = Math.min(after * 1000, 60_000);
    } catch (err) {
      if (err instanceof FetchError) throw err;
      const reason = (err as Error).name === 'TimeoutError' ? `timed out after ${opts.timeoutMs} ms` : causeOf(err);
      if (attempt >= opts.retries) throw new FetchError(`${url}: ${reason}`, null, true);
    }
    await sleep(delay);
  }
}

function causeOf(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/** Spaces calls at least `intervalMs` apart (arXiv asks for one request per 3 s). */
export function throttle(intervalMs: number) {
  let next = 0;
  return async () => {
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
    next = Date.now() + intervalMs;
  };
}
