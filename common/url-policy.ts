/**
 * Which URLs sora-series fetches on a spec's behalf (source clips), shared by the spec check and
 * the worker. Pure: no I/O, no environment reads unless handed an env.
 *
 * A spec comes from a user, but the worker fetches its clip from inside our network, so a URL
 * naming a loopback, private or link-local host (127.0.0.1, 10.x, 169.254.169.254 cloud metadata,
 * `localhost`, ...) would let a spec read internal services (SSRF). Such hosts are refused unless
 * `SORA_SERIES_ALLOW_PRIVATE_URLS` allows them: `1` for any private host (the dev stack and tests,
 * whose simulator is on loopback), or a comma-separated list of `host` / `host:port` entries for
 * exactly those (an internal CDN). The spec check sees literal hosts only; the worker re-checks
 * every address a name resolves to and every redirect (activities/url-guard.ts).
 */

export const ALLOW_PRIVATE_URLS_ENV = 'SORA_SERIES_ALLOW_PRIVATE_URLS';

export interface UrlPolicy {
  /** true: any private or loopback host; a list: only these (`host` or `host:port`); false: none. */
  allowPrivate: boolean | readonly string[];
}

/** The default: public hosts only. */
export const PUBLIC_ONLY: UrlPolicy = { allowPrivate: false };
export const ALLOW_ALL_PRIVATE: UrlPolicy = { allowPrivate: true };

export class UrlPolicyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlPolicyConfigError';
  }
}

const ALL = new Set(['1', 'true', 'yes', 'all']);
const NONE = new Set(['', '0', 'false', 'no', 'none']);

/** Parses the allowance (`1`, `0`, or `host[:port],...`); a malformed entry names the variable and the fix. */
export function parseAllowance(raw: string | undefined): UrlPolicy {
  const value = (raw ?? '').trim();
  if (ALL.has(value.toLowerCase())) return ALLOW_ALL_PRIVATE;
  if (NONE.has(value.toLowerCase())) return PUBLIC_ONLY;
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const entry of entries) {
    if (!parseEntry(entry)) {
      throw new UrlPolicyConfigError(
        `${ALLOW_PRIVATE_URLS_ENV}: "${entry}" is not a host or host:port; use 1 (any private host), 0 (none) or a list such as "127.0.0.1:7070,media.internal"`,
      );
    }
  }
  return { allowPrivate: entries };
}

export function urlPolicyFromEnv(env: NodeJS.ProcessEnv): UrlPolicy {
  return parseAllowance(env[ALLOW_PRIVATE_URLS_ENV]);
}

function parseEntry(entry: string): { host: string; port?: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+)(?::(\d{1,5}))?$/.exec(entry);
  if (!match) return undefined;
  try {
    const host = new URL(`http://${match[1]}/`).hostname;
    const port = match[2] === undefined ? undefined : Number(match[2]);
    if (port !== undefined && (port < 1 || port > 65535)) return undefined;
    return port === undefined ? { host } : { host, port };
  } catch {
    return undefined;
  }
}

/** The port a URL connects to. */
function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Whether the policy lets this URL's host be private (any private host, or this host listed). */
export function privateAllowedFor(url: URL, policy: UrlPolicy): boolean {
  if (policy.allowPrivate === true) return true;
  if (policy.allowPrivate === false) return false;
  const host = url.hostname.toLowerCase();
  return policy.allowPrivate.some((raw) => {
    const entry = parseEntry(raw);
    return (
      entry !== undefined &&
      entry.host.toLowerCase() === host &&
      (entry.port === undefined || entry.port === portOf(url))
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Addresses

function ipv4Octets(ip: string): number[] | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return undefined;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

/** Eight 16-bit groups, or undefined when `ip` is not IPv6 (brackets and a zone id are allowed). */
function ipv6Groups(raw: string): number[] | undefined {
  let ip = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  ip = ip.split('%')[0];
  if (!ip.includes(':')) return undefined;
  // a dotted IPv4 tail (::ffff:10.0.0.1) stands for the last two groups
  let tail: number[] = [];
  const lastColon = ip.lastIndexOf(':');
  if (ip.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Octets(ip.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    ip = ip.slice(0, lastColon + 1);
    if (!ip.endsWith('::')) ip = ip.slice(0, -1);
  }
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) =>
    s === '' ? [] : s.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const given = head.length + rest.length + tail.length;
  if ([...head, ...rest].some(Number.isNaN)) return undefined;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  return [...head, ...Array<number>(8 - given).fill(0), ...rest, ...tail];
}

const V4_RANGES: ReadonlyArray<[number, number, number, string]> = [
  // [first octet, second-octet mask, second-octet value, what]
  [0, 0, 0, 'the unspecified "this host" range (0.0.0.0/8)'],
  [10, 0, 0, 'a private network (10.0.0.0/8)'],
  [100, 0xc0, 64, 'a carrier-grade NAT network (100.64.0.0/10)'],
  [127, 0, 0, 'loopback (127.0.0.0/8)'],
  [169, 0xff, 254, 'link-local (169.254.0.0/16, where cloud metadata services answer)'],
  [172, 0xf0, 16, 'a private network (172.16.0.0/12)'],
  [192, 0xff, 168, 'a private network (192.168.0.0/16)'],
  [198, 0xfe, 18, 'a benchmarking network (198.18.0.0/15)'],
];

function ipv4Range(o: number[]): string | undefined {
  for (const [first, mask, value, what] of V4_RANGES) {
    if (o[0] === first && (o[1] & mask) === value) return what;
  }
  if (o[0] === 192 && o[1] === 0 && o[2] === 0) return 'IETF protocol assignments (192.0.0.0/24)';
  if (o[0] >= 224 && o[0] <= 239) return 'multicast (224.0.0.0/4)';
  if (o[0] >= 240) return 'a reserved or broadcast range (240.0.0.0/4)';
  return undefined;
}

/**
 * Why an IP address is not a public unicast address (e.g. `loopback (127.0.0.0/8)`), or undefined
 * when it is public. IPv4 written inside IPv6 (::ffff:10.0.0.1, 64:ff9b::/96, 6to4) counts as IPv4.
 * Undefined too for anything that is not an IP address.
 */
export function nonPublicRange(ip: string): string | undefined {
  const v4 = ipv4Octets(ip);
  if (v4) return ipv4Range(v4);
  const g = ipv6Groups(ip);
  if (!g) return undefined;
  const embedded = (hi: number, lo: number) => ipv4Range([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return 'the unspecified address (::)';
  if (zeros(7) && g[7] === 1) return 'loopback (::1)';
  if (zeros(5) && g[5] === 0xffff) return embedded(g[6], g[7]) && `${embedded(g[6], g[7])} as IPv4-mapped IPv6`;
  if (zeros(6)) return embedded(g[6], g[7]) && `${embedded(g[6], g[7])} as IPv4-compatible IPv6`;
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return embedded(g[6], g[7]) && `${embedded(g[6], g[7])} via NAT64`;
  if (g[0] === 0x2002) return embedded(g[1], g[2]) && `${embedded(g[1], g[2])} via 6to4`;
  if ((g[0] & 0xfe00) === 0xfc00) return 'a unique local IPv6 network (fc00::/7)';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local IPv6 (fe80::/10)';
  if ((g[0] & 0xffc0) === 0xfec0) return 'site-local IPv6 (fec0::/10)';
  if ((g[0] & 0xff00) === 0xff00) return 'IPv6 multicast (ff00::/8)';
  return undefined;
}

export function isIpLiteral(host: string): boolean {
  return ipv4Octets(host) !== undefined || ipv6Groups(host) !== undefined;
}

/** Host names that mean this machine whatever DNS says (RFC 6761). */
function localName(host: string): string | undefined {
  const name = host.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost') ? 'this machine (localhost)' : undefined;
}

// ---------------------------------------------------------------------------------------------
// URLs

export type UrlProblemCode = 'not_a_url' | 'scheme' | 'credentials' | 'private_host';

export interface UrlProblem {
  code: UrlProblemCode;
  /** Reads after the field name: `character.clip: <message>`. */
  message: string;
}

/** Query parameters that carry long-lived keys; short-lived signatures (X-Amz-Signature, token) are fine. */
const KEY_PARAMS =
  /^(api[-_]?key|apikey|access[-_]?key|secret|client[-_]?secret|password|passwd|pwd|private[-_]?token|auth[-_]?token)$/i;

export const PRIVATE_HOST_FIX = `source clips must come from a public host. For a local simulator or an internal CDN, set ${ALLOW_PRIVATE_URLS_ENV}=1 (or a list of allowed hosts, e.g. "127.0.0.1:7070") for the CLI and the worker`;

/** The URL without credentials or query (which may hold a signature): safe for messages and logs. */
export function describeUrl(raw: string | URL): string {
  try {
    const url = typeof raw === 'string' ? new URL(raw) : raw;
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
  } catch {
    return typeof raw === 'string' && raw.length > 80 ? `${raw.slice(0, 80)}…` : String(raw);
  }
}

/**
 * The literal checks: an http(s) URL without credentials whose host, as written, is not private
 * unless the policy allows it. Names are not resolved here (the worker does that).
 */
export function checkUrl(raw: string, policy: UrlPolicy): UrlProblem | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { code: 'not_a_url', message: 'must be an http(s) URL, e.g. https://cdn.example/mira.mp4' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return {
      code: 'scheme',
      message: `must be an http(s) URL (got ${url.protocol}); host the clip on a web server or CDN`,
    };
  }
  if (url.username || url.password) {
    return {
      code: 'credentials',
      message:
        'must not carry credentials (user:password@); give the provider keys to the worker instead, and host the clip where it can be fetched without a login',
    };
  }
  const keyParam = [...url.searchParams.keys()].find((k) => KEY_PARAMS.test(k));
  if (keyParam) {
    return {
      code: 'credentials',
      message: `must not carry credentials (the "${keyParam}" query parameter ends up in workflow history and logs); use a short-lived signed URL or a public one`,
    };
  }
  return checkHost(url, policy);
}

function checkHost(url: URL, policy: UrlPolicy): UrlProblem | undefined {
  const what = localName(url.hostname) ?? nonPublicRange(url.hostname);
  if (!what || privateAllowedFor(url, policy)) return undefined;
  return { code: 'private_host', message: `points at ${url.host}, which is ${what}; ${PRIVATE_HOST_FIX}` };
}

/** For the worker: an address the URL's host resolved to, checked against the policy. */
export function checkResolvedAddress(url: URL, address: string, policy: UrlPolicy): UrlProblem | undefined {
  const what = nonPublicRange(address);
  if (!what || privateAllowedFor(url, policy)) return undefined;
  return { code: 'private_host', message: `host ${url.hostname} resolves to ${address}, ${what}; ${PRIVATE_HOST_FIX}` };
}
