import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, UnauthorizedError } from './errors';
import type { Answer, Route } from './route';
import { GATEWAY_TOKEN_ENV } from './settings';

/**
 * The gateway's door when it has a token. Services send `Authorization: Bearer <token>`. A browser
 * cannot send a header when it navigates, so the review page takes the token once as `?token=`
 * and answers with a redirect to the same page without it (out of the address bar, the history
 * and access logs) that sets a cookie. The cookie is HttpOnly (the page's script never reads it),
 * SameSite=Strict (requests from other sites do not carry it), and holds a value derived from
 * the token, not the token itself, so a browser's cookie store does not give the token away.
 */

export const SESSION_COOKIE = 'sora_series_session';
export const TOKEN_QUERY = 'token';

const sessionOf = (token: string) =>
  createHmac('sha256', token).update('sora-series gateway review session').digest('base64url');

/** Compared as digests: equal lengths, so the comparison's time says nothing about the secret. */
function same(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** How a request shows it holds the token, or undefined when it does not. */
function credentialOf(req: IncomingMessage, token: string): 'bearer' | 'cookie' | undefined {
  const header = req.headers.authorization;
  if (header !== undefined && same(header, `Bearer ${token}`)) return 'bearer';
  const session = cookie(req.headers.cookie, SESSION_COOKIE);
  return session !== undefined && same(session, sessionOf(token)) ? 'cookie' : undefined;
}

/**
 * A browser sends the cookie with any same-site request, and other ports of the same host are the
 * same site: a cookie-carried POST must come from the gateway's own pages (Origin and Fetch
 * Metadata say where a browser's request came from).
 */
function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const host = req.headers.host;
  const foreign = (site !== undefined && site !== 'same-origin') || (origin !== undefined && hostOf(origin) !== host);
  if (foreign)
    throw new ForbiddenError(
      `a request carrying the review page's cookie must come from the gateway's own page (Origin ${origin ?? 'unset'}); other callers send Authorization: Bearer <token>`,
    );
}

const hostOf = (origin: string) => {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
};

/** Refuses a request to a guarded route that does not hold the token (no token set: the door is open). */
export function checkDoor(req: IncomingMessage, route: Route, token: string | undefined): void {
  if (!token || route.open) return;
  const credential = credentialOf(req, token);
  if (!credential) {
    throw new UnauthorizedError(
      route.page
        ? `this page needs the gateway's token (${GATEWAY_TOKEN_ENV}): open it once as ${route.path.replace('{id}', '<id>')}?${TOKEN_QUERY}=<token>; the gateway then keeps a cookie for this browser`
        : `missing or wrong Authorization header: send Authorization: Bearer <the gateway's token, ${GATEWAY_TOKEN_ENV}>`,
    );
  }
  if (credential === 'cookie' && req.method !== 'GET') checkSameOrigin(req);
}

/**
 * `?token=` on a page: the same page without it, with the session cookie when the token is right
 * (a wrong one is 401). Without a gateway token there is nothing to keep: the redirect only drops it.
 */
export function tokenLogin(req: IncomingMessage, url: URL, token: string | undefined): Answer | undefined {
  const given = url.searchParams.get(TOKEN_QUERY);
  if (given === null) return undefined;
  if (token && !same(given, token))
    throw new UnauthorizedError(`the ${TOKEN_QUERY} in the address is not the gateway's token (${GATEWAY_TOKEN_ENV})`);
  url.searchParams.delete(TOKEN_QUERY);
  // Relative to the page itself, so the redirect also works behind a proxy that mounts the gateway under a path.
  const location = `./${url.pathname.split('/').pop()}${url.search}`;
  const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
  return {
    status: 303,
    headers: {
      location,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      ...(token
        ? { 'set-cookie': `${SESSION_COOKIE}=${sessionOf(token)}; Path=/; HttpOnly; SameSite=Strict${secure}` }
        : {}),
    },
  };
}
