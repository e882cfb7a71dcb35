/**
 * Downloads a finished video from the signed CDN URL an upstream handed out, streaming, with
 * the provider's key never sent along (the CDN is another host). For contracts whose results
 * are URLs rather than a content endpoint.
 */
import { classifyHttpFailure, classifyThrown, contractViolation, ProviderError } from './errors';
import { streamBody } from './streaming';

export interface AssetFetchOptions {
  provider: string;
  /** For the response headers and for each chunk (idle). */
  timeoutMs: number;
}

/**
 * Signed asset URLs: 403 usually means the signature expired between the status call and this
 * fetch (a retry gets a fresh URL); 404/410 means the asset itself is gone.
 */
export function signedAssetFailure(provider: string, status: number): ProviderError {
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

export async function fetchSignedAsset(url: string, options: AssetFetchOptions): Promise<AsyncIterable<Uint8Array>> {
  const { provider, timeoutMs } = options;
  const controller = new AbortController();
  const headersTimer = setTimeout(
    () => controller.abort(new DOMException('asset headers timed out', 'TimeoutError')),
    timeoutMs,
  );
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal });
  } catch (err) {
    throw classifyThrown(provider, controller.signal.reason ?? err);
  } finally {
    clearTimeout(headersTimer);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw signedAssetFailure(provider, response.status);
  }
  if (!response.body) throw contractViolation(provider, 'video download', 'empty body');
  return streamBody(response.body, { provider, idleTimeoutMs: timeoutMs, abort: () => controller.abort() });
}
