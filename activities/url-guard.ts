/**
 * Fetching a URL a spec named, from inside our network, without becoming a proxy into it (SSRF).
 *
 * The spec check (common/url-policy.ts) only sees the URL as written. Here every hop is checked
 * again after DNS: all addresses a name resolves to must be public (unless the policy allows the
 * host), and the connection is pinned to exactly those checked addresses, so a name that
 * re-resolves to 127.0.0.1 between check and connect (DNS rebinding) gets nowhere. Redirects are
 * not followed blindly: each Location is checked like the first URL, at most `maxRedirects` times.
 */
import { promises as dns, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  checkResolvedAddress,
  checkUrl,
  describeUrl,
  isIpLiteral,
  PUBLIC_ONLY,
  type UrlPolicy,
} from '../common/url-policy';

/** Resolves a host name to every address it has (node:dns unless a test swaps it). */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

export const systemLookup: HostLookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export type UrlRefusal = 'not_a_url' | 'scheme' | 'credentials' | 'private_host' | 'too_many_redirects';

/** The URL (or a redirect it led to) is not one the policy lets us fetch; retrying cannot help. */
export class UrlRefusedError extends Error {
  constructor(
    readonly code: UrlRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'UrlRefusedError';
  }
}

export interface GuardedGetOptions {
  policy?: UrlPolicy;
  lookup?: HostLookup;
  /** Redirects followed (each one checked); one more is refused. Default 3. */
  maxRedirects?: number;
  /** Longest wait for response headers, per hop. Default 30 s. */
  headersTimeoutMs?: number;
  /** Aborts the whole download, body included. */
  signal?: AbortSignal;
}

export interface GuardedResponse {
  /** The URL that answered (after redirects). */
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Every URL a redirect led to, in order. */
  redirects: string[];
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET `raw`, refusing any hop whose host is (or resolves to) an address the policy does not allow. */
export async function guardedGet(raw: string, options: GuardedGetOptions = {}): Promise<GuardedResponse> {
  const policy = options.policy ?? PUBLIC_ONLY;
  const lookup = options.lookup ?? systemLookup;
  const maxRedirects = options.maxRedirects ?? 3;
  const redirects: string[] = [];
  let current = raw;
  for (;;) {
    const via = redirects.length ? `${describeUrl(raw)} redirects to ${describeUrl(current)}: ` : '';
    const { url, addresses } = await vet(current, policy, lookup, via);
    const response = await request(url, addresses, options);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location) {
      return { url: url.href, status: response.statusCode ?? 0, headers: response.headers, body: response, redirects };
    }
    response.resume(); // drain: nothing in a redirect body matters
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new UrlRefusedError(
        'not_a_url',
        `${describeUrl(raw)} redirects to "${location.slice(0, 80)}", which is not a URL`,
      );
    }
    if (redirects.length >= maxRedirects) {
      throw new UrlRefusedError(
        'too_many_redirects',
        `${describeUrl(raw)} redirects more than ${maxRedirects} times (last to ${describeUrl(next)}); link the file itself`,
      );
    }
    redirects.push(next.href);
    current = next.href;
  }
}

/** Literal checks, then DNS: every address must pass, or the policy must allow this host. `via` prefixes messages for redirect hops. */
async function vet(
  raw: string,
  policy: UrlPolicy,
  lookup: HostLookup,
  via: string,
): Promise<{ url: URL; addresses: LookupAddress[] }> {
  const literal = checkUrl(raw, policy);
  if (literal) throw new UrlRefusedError(literal.code, `${via}${literal.message}`);
  const url = new URL(raw);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIpLiteral(host)) return { url, addresses: [{ address: host, family: host.includes(':') ? 6 : 4 }] };
  const addresses = await lookup(host);
  if (addresses.length === 0)
    throw new Error(`${url.hostname}: DNS returned no addresses; check the host name in the URL`);
  for (const { address } of addresses) {
    const problem = checkResolvedAddress(url, address, policy);
    if (problem) throw new UrlRefusedError(problem.code, `${via}${problem.message}`);
  }
  return { url, addresses };
}

/** One GET on a fresh connection to exactly the vetted addresses; no redirects, no keep-alive pool. */
function request(url: URL, addresses: LookupAddress[], options: GuardedGetOptions): Promise<IncomingMessage> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (err: null, all: LookupAddress[]) => void)(null, addresses);
    } else {
      callback(null, addresses[0].address, addresses[0].family);
    }
  };
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      method: 'GET',
      agent: false,
      lookup: pinned,
      headers: { accept: 'video/*, application/octet-stream;q=0.9, */*;q=0.1', 'user-agent': 'sora-series' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const timer = setTimeout(
      () =>
        req.destroy(
          Object.assign(new Error(`${describeUrl(url)}: no response within ${options.headersTimeoutMs ?? 30_000} ms`), {
            name: 'TimeoutError',
          }),
        ),
      options.headersTimeoutMs ?? 30_000,
    );
    req.once('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
