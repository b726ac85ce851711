import { createHmac, timingSafeEqual } from 'node:crypto';

// VERP-style return paths (issue 16): every digest and transactional mail goes
// out with MAIL FROM bounces+<id>-<mac>@domain when BOUNCE_ADDRESS is set, so a
// bounce names the subscriber it is about even when the DSN only shows a
// forwarding address. The tag carries the subscriber id and an HMAC over the id
// and the address, never the address itself: anyone can mail the bounce
// mailbox, and a guessed or edited tag must not suppress someone else.

const MAC_CHARS = 20; // 80 bits of HMAC-SHA256, hex (case-insensitive: some MTAs fold local parts)

/** The signed tag for one subscriber: `<id in base 36>-<mac>`. */
export function verpTag(secret: string, subscriberId: number, email: string): string {
  return `${subscriberId.toString(36)}-${mac(secret, subscriberId, email)}`;
}

function mac(secret: string, subscriberId: number, email: string): string {
  return createHmac('sha256', secret).update(`verp:${subscriberId}:${email.trim().toLowerCase()}`).digest('hex').slice(0, MAC_CHARS);
}

/** The envelope sender for one subscriber: bounces+<tag>@domain. */
export function verpAddress(bounceAddress: string, secret: string, subscriberId: number, email: string): string {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+${verpTag(secret, subscriberId, email)}${bounceAddress.slice(at)}`;
}

/** A tag read from an address: the subscriber id it claims and its MAC, not yet checked. */
export interface VerpClaim {
  subscriberId: number;
  mac: string;
}

/** The address inside an address field ("Ada <ada@x.org>" → ada@x.org). */
export const bareAddress = (v: string) => v.trim().replace(/^.*</, '').replace(/>.*$/, '').trim();

/**
 * Reads the tag of a return path of the form local+tag@domain (bounceAddress
 * is local@domain). Null when the address is not ours or has no tag; a claim
 * with a malformed tag ({ subscriberId: NaN }) when it is ours but unreadable,
 * so a caller can tell "forged" from "not VERP".
 */
export function readVerpTag(address: string, bounceAddress: string): VerpClaim | null {
  const a = bareAddress(address).toLowerCase();
  const b = bounceAddress.trim().toLowerCase();
  const at = b.lastIndexOf('@');
  const [local, domain] = [b.slice(0, at), b.slice(at)];
  if (!a.endsWith(domain) || !a.startsWith(`${local}+`)) return null;
  const tag = a.slice(local.length + 1, a.length - domain.length);
  const m = /^([0-9a-z]{1,11})-([0-9a-f]{20})$/.exec(tag);
  return m ? { subscriberId: parseInt(m[1]!, 36), mac: m[2]! } : { subscriberId: NaN, mac: '' };
}

/** Whether a claimed tag was made by this Paperboy for this subscriber and address (constant-time). */
export function verifyVerpTag(secret: string, claim: VerpClaim, email: string): boolean {
  if (!Number.isSafeInteger(claim.subscriberId) || claim.mac.length !== MAC_CHARS) return false;
  const want = Buffer.from(mac(secret, claim.subscriberId, email));
  return timingSafeEqual(want, Buffer.from(claim.mac));
}

/**
 * The mailer's envelope sender: the signed VERP address of the reader a message
 * goes to, the bare bounce address for one with no reader, or undefined (the
 * From address, as without BOUNCE_ADDRESS) when no bounce address is set.
 */
export function returnPathFor(bounceAddress: string | undefined, secret: string) {
  if (!bounceAddress) return undefined;
  return (mail: { to: string; subscriberId?: number }): string =>
    mail.subscriberId === undefined ? bounceAddress : verpAddress(bounceAddress, secret, mail.subscriberId, mail.to);
}
