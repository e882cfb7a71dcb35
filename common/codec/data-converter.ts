import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import { codecKeysFromEnv } from './keys';

/** For worker bundles: a prebuilt bundle must be built with this failure converter too. */
export const ENCRYPTING_FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/** The encrypting codec from SORA_SERIES_CODEC_KEYS, or undefined when encryption is off. */
export function encryptionCodecFromEnv(env: NodeJS.ProcessEnv = process.env): EncryptionCodec | undefined {
  const keys = codecKeysFromEnv(env);
  return keys ? new EncryptionCodec(keys) : undefined;
}

/** The data converter client and worker share: payloads and failure messages encrypted when keys are set. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = encryptionCodecFromEnv(env);
  return codec ? { payloadCodecs: [codec], failureConverterPath: ENCRYPTING_FAILURE_CONVERTER_PATH } : undefined;
}
