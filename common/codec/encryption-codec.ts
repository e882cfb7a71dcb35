import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CODEC_KEYS_ENV, type CodecKey } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Which key encrypted a payload; decoding picks the key by it, so old histories stay readable after a rotation. */
export const KEY_ID_METADATA = 'encryption-key-id';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/**
 * AES-256-GCM over the whole serialized payload (metadata included, so even the encoding is
 * hidden), laid out as iv | ciphertext | tag: the envelope Temporal's encryption samples use.
 * Payloads that are not encrypted pass through decode, so histories written before encryption
 * was turned on stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;
  private readonly current: CodecKey;

  constructor(keys: readonly CodecKey[]) {
    if (keys.length === 0) throw new PayloadDecryptionError(`no codec keys: set ${CODEC_KEYS_ENV}`);
    this.current = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, this.current.key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(this.current.id) },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
      const id = text(payload.metadata?.[KEY_ID_METADATA]);
      const key = id === undefined ? undefined : this.byId.get(id);
      if (!key) {
        throw new PayloadDecryptionError(
          `payload encrypted with key "${id ?? '(none)'}", which ${CODEC_KEYS_ENV} does not hold (it has ${this.keyIds.join(', ')}): add that key back; retire a key only once no history needs it`,
        );
      }
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptionError(`encrypted payload (key "${id}") is truncated`);
      const decipher = createDecipheriv(ALGORITHM, key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(
          `payload with key id "${id}" failed authentication: the key under that id in ${CODEC_KEYS_ENV} is not the one it was encrypted with, or the payload was altered`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
