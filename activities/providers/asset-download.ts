/**
 * Fetching a finished video from the signed URL an upstream hands out (relay files, Ark's TOS
 * URLs): headers within the timeout, then the body streamed with an idle timeout per chunk.
 * The provider's key goes only to the provider's own origin, never to the CDN a URL points at.
 */
import { classifyHttpFailure, classifyThrown, contractViolation, ProviderError } from './errors';
import { streamBody } from './streaming';

export interface AssetFetch {
  provider: string;
  url: string;
  timeoutMs: number;
  /** The provider's API base and key, for contracts whose files may be on the API's own origin: the key goes only there. */
  apiBaseUrl?: string;
  apiKey?: string;
}

export async function fetchAsset({
  provider,
  url,
  timeoutMs,
  apiBaseUrl,
  apiKey,
}: AssetFetch): Promise<AsyncIterable<Uint8Array>> {
  const controller = new AbortController();
  const headersTimer = setTimeout(
    () => controller.abort(new DOMException('asset headers timed out', 'TimeoutError')),
    timeoutMs,
  );
  const sameOrigin =
    apiBaseUrl !== undefined && apiKey !== undefined && new URL(url).origin === new URL(apiBaseUrl).origin;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: sameOrigin ? { Authorization: `Bearer ${apiKey}` } : {},
      signal: controller.signal,
    });
  } catch (err) {
    throw classifyThrown(provider, controller.signal.reason ?? err, apiKey ? [apiKey] : []);
  } finally {
    clearTimeout(headersTimer);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw assetFailure(provider, response.status);
  }
  if (!response.body) throw contractViolation(provider, 'video download', 'empty body');
  return streamBody(response.body, { provider, idleTimeoutMs: timeoutMs, abort: () => controller.abort() });
}

/**
 * Signed asset URLs: 403 usually means the signature expired between the status call and this
 * fetch (a retry gets a fresh URL); 404/410 means the asset itself is gone.
 */
export function assetFailure(provider: string, status: number): ProviderError {
  if (status === 404 || status === 410) {
    return new ProviderError({
      kind: 'invalid',
      code: 'asset_expired',
      provider,
      status,
      message: `${provider}: video asset is gone (HTTP ${status})`,
    });
  }
  if (status === 403) {
    return new ProviderError({
      kind: 'transient',
      code: 'asset_url_expired',
      provider,
      status,
      message: `${provider}: video URL refused (HTTP 403)`,
    });
  }
  return classifyHttpFailure({ provider, status, message: `video download failed (HTTP ${status})` });
}
