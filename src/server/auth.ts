// The one secret of the server: every route wants the token, as `Authorization: Bearer T` (the
// API, curl, coroner upload) or as the password of Basic auth (so a browser can open the report).
import { createHash, timingSafeEqual } from 'node:crypto';

/** Hashed first so that the comparison takes the same time whatever the lengths. */
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function presented(header: string | undefined): string | null {
  const m = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  if (m[1]!.toLowerCase() === 'bearer') return m[2]!;
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : decoded.slice(colon + 1);
}

export function tokenChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const given = presented(authorization);
    // Compared even when absent, so a missing header costs the same as a wrong one.
    return timingSafeEqual(digest(given ?? ''), expected) && given !== null;
  };
}
