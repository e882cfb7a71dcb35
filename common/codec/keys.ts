import { z } from 'zod';

/** `id1:base64key,id2:base64key`: the first key encrypts, all of them decrypt (rotation = put a new key first). */
export const CODEC_KEYS_ENV = 'SORA_SERIES_CODEC_KEYS';

export interface CodecKey {
  id: string;
  key: Buffer;
}

export class CodecKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecKeysError';
  }
}

const KEY_BYTES = 32; // AES-256
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FIX = `generate a key with \`openssl rand -base64 ${KEY_BYTES}\` and list keys as "id:base64key,older-id:base64key"`;

// Messages name entries by position and id only: never echo key material.
const entrySchema = z.string().transform((raw, ctx): CodecKey => {
  const at = raw.indexOf(':');
  const id = at < 0 ? '' : raw.slice(0, at).trim();
  const encoded = at < 0 ? '' : raw.slice(at + 1).trim();
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
    ctx.addIssue({ code: 'custom', message: 'needs an id (letters, digits, . _ -) before the colon' });
    return z.NEVER;
  }
  const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
  if (key?.length !== KEY_BYTES) {
    ctx.addIssue({
      code: 'custom',
      message: `key "${id}" ${key ? `is ${key.length} bytes` : 'is not base64'}; AES-256 needs ${KEY_BYTES} bytes`,
    });
    return z.NEVER;
  }
  return { id, key };
});

const keysSchema = z.array(entrySchema).superRefine((keys, ctx) => {
  const seen = new Set<string>();
  for (const { id } of keys) {
    if (seen.has(id))
      ctx.addIssue({
        code: 'custom',
        message: `key id "${id}" appears twice; each key needs its own id (it is stored with every payload)`,
      });
    seen.add(id);
  }
});

/** The codec keys, or undefined when encryption is off (variable unset or empty). */
export function codecKeysFromEnv(env: NodeJS.ProcessEnv = process.env): CodecKey[] | undefined {
  const raw = env[CODEC_KEYS_ENV]?.trim();
  if (!raw) return undefined;
  const parsed = keysSchema.safeParse(raw.split(',').map((entry) => entry.trim()));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      typeof issue.path[0] === 'number' ? `entry ${issue.path[0] + 1}: ${issue.message}` : issue.message,
    );
    throw new CodecKeysError(`${CODEC_KEYS_ENV}: ${problems.join('; ')}; ${FIX}`);
  }
  return parsed.data;
}

/** The key strings as written, for the log scrubber (validation is not needed to hide them). */
export function codecKeyMaterial(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[CODEC_KEYS_ENV] ?? '')
    .split(',')
    .map((entry) => entry.slice(entry.indexOf(':') + 1).trim())
    .filter(Boolean);
}
