/**
 * Streams a download body without holding it in memory. Request timeouts only cover the
 * response headers; a body that stalls midway is caught by an idle timeout per chunk instead,
 * so a large video is never cut off for being large, only for being stuck.
 */
import { ProviderError } from './errors';

export interface BodyStreamOptions {
  provider: string;
  /** Longest wait for the next chunk. */
  idleTimeoutMs: number;
  /** Aborts the underlying request (its AbortController). */
  abort: () => void;
}

export async function* streamBody(
  body: ReadableStream<Uint8Array>,
  { provider, idleTimeoutMs, abort }: BodyStreamOptions,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  try {
    for (;;) {
      timer = setTimeout(() => {
        stalled = true;
        abort();
      }, idleTimeoutMs);
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new ProviderError({
          kind: 'transient',
          code: stalled ? 'download_stalled' : 'download_interrupted',
          provider,
          message: stalled
            ? `${provider}: download stalled for ${idleTimeoutMs} ms`
            : `${provider}: download interrupted: ${(err as Error).message}`,
          cause: err,
        });
      } finally {
        // the consumer's own pace between chunks is not upstream idleness
        clearTimeout(timer);
      }
      if (chunk.done) {
        finished = true;
        return;
      }
      yield chunk.value;
    }
  } finally {
    if (!finished) {
      // the consumer stopped early or we failed: release the connection
      await reader.cancel().catch(() => undefined);
      abort();
    }
  }
}
