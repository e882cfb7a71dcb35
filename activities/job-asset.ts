import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from 'pino';
import { callProvider } from './provider-failures';
import type { VideoProvider } from './providers/provider';
import { INVALID_MEDIA, InvalidMediaError, verifyMedia, type MediaOrder, type VerifiedMedia } from './media-check';
import { storeContentAddressed, type StoredFile } from './storage';

/** ffprobe decodes the whole file: keep the heartbeat going meanwhile. */
const PROBE_HEARTBEAT_MS = 5_000;

export interface JobAssetRequest extends MediaOrder {
  provider: string;
  jobId: string;
}

/**
 * Downloads a finished job's video into content-addressed storage (bytes never cross Temporal
 * payloads), stored only once ffprobe has verified it against the order. A bad download is
 * `InvalidMedia`, non-retryable on the `lastTry`, so the scene makes a new take.
 */
export async function storeJobAsset(
  provider: VideoProvider,
  input: JobAssetRequest,
  options: { assetsDir: string; heartbeat: () => void; lastTry: boolean; log: Logger },
): Promise<StoredFile> {
  let media: VerifiedMedia | undefined;
  const verify = async (path: string) => {
    const beat = setInterval(options.heartbeat, PROBE_HEARTBEAT_MS);
    try {
      media = await verifyMedia(path, { seconds: input.seconds, size: input.size });
    } finally {
      clearInterval(beat);
    }
  };
  let stored: StoredFile;
  try {
    stored = await callProvider(async () =>
      storeContentAddressed(options.assetsDir, await provider.download(input.jobId), {
        ext: '.mp4',
        onChunk: options.heartbeat,
        verify,
      }),
    );
  } catch (err) {
    if (!(err instanceof InvalidMediaError)) throw err;
    options.log.warn({ problems: err.problems, lastTry: options.lastTry }, 'downloaded media is invalid');
    throw ApplicationFailure.create({
      type: INVALID_MEDIA,
      message: `invalid media from ${input.provider} (job ${input.jobId}): ${err.message}`,
      nonRetryable: options.lastTry,
      details: [{ provider: input.provider, jobId: input.jobId, problems: err.problems }],
    });
  }
  options.log.info({ sha256: stored.sha256, bytes: stored.bytes, media }, 'asset stored');
  return stored;
}
