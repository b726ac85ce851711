/** A parsed XML node's text, whether the parser gave a string or an element with attributes. */
export const asText = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return asText((v as Record<string, unknown>)['#text']);
  return String(v);
};

/** YYYY-MM-DD of an ISO or RFC 822 date, or null. */
export const day = (s: string): string | null => (/^\d{4}-\d{2}-\d{2}/.test(s) ? s.slice(0, 10) : s ? safeDay(s) : null);
function safeDay(s: string): string | null {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 10);
}
