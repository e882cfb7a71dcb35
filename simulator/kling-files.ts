/**
 * Kling's result CDN: `GET /kling/cdn/{task_id}.mp4?Expires=<ms>&Signature=<hex>`, no key (the
 * adapter must not send one to a CDN), hotlink-protected by the signature and cleared once
 * `Expires` (30 days after the task ended) has passed. Only faults set on the `file` endpoint
 * itself apply, so a contract-wide `down` leaves results downloadable, as with relay files.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { klingError, renderKlingError } from './kling-errors';
import { underFaults } from './gateway';
import { bytesResponse, type SimResponse } from './http';
import { videoSubject } from './media';
import { viewJob } from './jobs';
import type { SimulatorState } from './state';

/** Result URLs are cleared 30 days after the task ends (S3, S9). */
export const KLING_URL_TTL_SECONDS = 30 * 24 * 3600;

/** When a result is cleared: 30 days after the task ended, unless a scenario says otherwise (`contentTtlSeconds`). */
export function klingExpiresAtMs(state: SimulatorState, finishedAtMs: number): number {
  return finishedAtMs + state.scenario.contentTtlSeconds('kling', 'file', KLING_URL_TTL_SECONDS) * 1000;
}

/** The CDN's signing key: derived from the seed, so URLs are stable across a test's reads. */
export function signedFileUrlKey(state: SimulatorState): Buffer {
  return createHash('sha256').update(`kling-cdn\u0000${state.config.seed}`).digest();
}

export function serveKlingFile(state: SimulatorState, taskId: string, url: URL): Promise<SimResponse> {
  state.ledger.countCall('kling', 'file', false);
  return underFaults(
    state,
    { contract: 'kling', endpoint: 'file', inherit: false },
    renderKlingError,
    () => undefined,
    async () => {
      const expires = Number(url.searchParams.get('Expires'));
      const given = Buffer.from(url.searchParams.get('Signature') ?? '', 'hex');
      const expected = createHmac('sha256', signedFileUrlKey(state)).update(`${taskId}.${expires}`).digest();
      if (given.length !== expected.length || !timingSafeEqual(given, expected))
        throw klingError(403, 1103, 'Access denied: the signature does not match');
      const job = state.jobs.get('kling', taskId);
      const view = job ? viewJob(job, state.now()) : undefined;
      const cleared = view?.finishedAtMs == null || state.now() >= klingExpiresAtMs(state, view.finishedAtMs);
      if (!job || view?.phase !== 'completed' || cleared || state.now() >= expires)
        throw klingError(404, 1203, 'The resource has been cleared');
      const subject = videoSubject(job, (id) => state.kling.elementEver(id)?.name);
      return bytesResponse(await state.media.video(subject), 'video/mp4');
    },
  );
}
