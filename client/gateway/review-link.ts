import { DEFAULT_TEMPORAL_ADDRESS } from '../../common/temporal/settings';
import { DEFAULT_GATEWAY_PORT } from './settings';

/**
 * Where a series' review page is, for the places that print or store its link (`watch`, the
 * memo): the gateway's URL as browsers reach it, plus `/review/<name>`. The link never carries
 * the gateway's token: links are printed and stored, and the token is given once as `?token=`.
 */

/** The gateway's URL as a browser reaches it (`dev` and `demo` set it for the processes they start). */
export const GATEWAY_URL_ENV = 'SORA_SERIES_GATEWAY_URL';
/** The review page's route is `${REVIEW_PATH}/{id}`. */
export const REVIEW_PATH = '/review';

export class GatewayUrlError extends Error {
  constructor(got: string, problem: string) {
    super(
      `${GATEWAY_URL_ENV}: ${problem}, got ${JSON.stringify(got)}; set it to the gateway's URL as a browser reaches it, e.g. http://127.0.0.1:${DEFAULT_GATEWAY_PORT}, or unset it`,
    );
    this.name = 'GatewayUrlError';
  }
}

/** A checked gateway URL without a trailing slash. */
export function checkedGatewayUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GatewayUrlError(raw, 'must be an http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new GatewayUrlError(raw, 'must be http or https');
  // A link is printed and kept in the memo: it must not carry a credential.
  if (url.username || url.password || url.search || url.hash)
    throw new GatewayUrlError(
      raw,
      'must not carry a user, password, query or fragment (give the token once as ?token=)',
    );
  return url.href.replace(/\/+$/, '');
}

/**
 * The gateway's URL when this process can know it: the variable, else the dev stack's gateway
 * when Temporal is the dev stack's default address; undefined otherwise.
 */
export function knownGatewayUrl(env: NodeJS.ProcessEnv, temporalAddress: string): string | undefined {
  const raw = env[GATEWAY_URL_ENV]?.trim();
  if (raw) return checkedGatewayUrl(raw);
  const devDefaults = [DEFAULT_TEMPORAL_ADDRESS, `localhost:${DEFAULT_TEMPORAL_ADDRESS.split(':')[1]}`];
  return devDefaults.includes(temporalAddress) ? `http://127.0.0.1:${DEFAULT_GATEWAY_PORT}` : undefined;
}

/** `<gateway>/review/harbor-tales` for `series/harbor-tales`; other ids go URL-encoded, as every gateway path takes them. */
export function reviewPageUrl(gatewayUrl: string, workflowId: string): string {
  const name = workflowId.startsWith('series/') ? workflowId.slice('series/'.length) : '';
  const segment = name && !name.includes('/') ? encodeURIComponent(name) : encodeURIComponent(workflowId);
  return `${gatewayUrl.replace(/\/+$/, '')}${REVIEW_PATH}/${segment}`;
}
