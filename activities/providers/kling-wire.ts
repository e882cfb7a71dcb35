/**
 * Kling's wire shapes (contracts/kling.md) as zod schemas, and its numeric error codes sorted
 * into the project's kinds. Tolerant where the contract file is unsure: ids as numbers or
 * strings, `succeed` or `succeeded`, timestamps as numbers or numeric strings, fields absent.
 */
import { z } from 'zod';
import { scrubSecrets } from '../../common/secrets';
import { CHARACTER_REVOKED } from '../../workflows/failures';
import type { ErrorKind } from '../../workflows/types';
import { parseRetryAfterMs, ProviderError } from './errors';

/** Ids are "long" in legacy bodies and strings elsewhere: always a string here. */
const id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);
const millis = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

/** Every reply: `{code, message, request_id, data?}`; code 0 is success. */
export const envelope = z.object({
  code: z.number().int(),
  message: z.string().nullish(),
  request_id: z.string().nullish(),
  data: z.unknown().optional(),
});

/** New-standard create reply `data`. */
export const createdTask = z.object({ id, status: z.string().nullish(), external_id: z.string().nullish() });

const taskStatus = z
  .enum(['submitted', 'processing', 'succeeded', 'succeed', 'failed'])
  .transform((s) => (s === 'succeed' ? 'succeeded' : s));

/** One `GET /tasks` record (video or element task). */
export const taskRecord = z.object({
  id,
  status: taskStatus,
  message: z.string().nullish(),
  create_time: millis.nullish(),
  update_time: millis.nullish(),
  external_id: z.string().nullish(),
  outputs: z
    .array(
      z.looseObject({
        type: z.string(),
        id: id.nullish(),
        url: z.string().nullish(),
        status: z.string().nullish(),
      }),
    )
    .nullish(),
  billing: z.array(z.looseObject({ charge_type: z.string().nullish(), amount: z.string().nullish() })).nullish(),
});
export type TaskRecord = z.infer<typeof taskRecord>;

export const taskList = z.array(taskRecord);

/** Legacy element create reply `data`. */
export const elementTaskCreated = z.object({
  task_id: id,
  task_status: z.string().nullish(),
  task_info: z.object({ external_task_id: z.string().nullish() }).nullish(),
});

/** Legacy element task (`GET /v1/general/advanced-custom-elements/{id}`). */
export const elementTask = z.object({
  task_id: id,
  task_status: taskStatus,
  task_status_msg: z.string().nullish(),
  created_at: millis.nullish(),
  task_result: z
    .object({
      elements: z
        .array(
          z.looseObject({
            element_id: id,
            status: z.enum(['succeed', 'succeeded', 'deleted']).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
export type ElementTask = z.infer<typeof elementTask>;

/** Kling's codes (§6) and what each means here; `retryMs` when Kling sends no Retry-After (it may never: §9). */
const KLING_CODES: Readonly<Record<number, { kind: ErrorKind; code: string; retryMs?: number }>> = {
  1000: { kind: 'unavailable', code: 'authentication_failed' },
  1001: { kind: 'unavailable', code: 'authorization_missing' },
  1002: { kind: 'unavailable', code: 'invalid_api_key' },
  1003: { kind: 'unavailable', code: 'token_not_yet_valid' },
  1004: { kind: 'unavailable', code: 'token_expired' },
  1100: { kind: 'unavailable', code: 'account_abnormal' },
  1101: { kind: 'unavailable', code: 'account_in_arrears' },
  // the account cannot pay: another provider can (refused before any task exists)
  1102: { kind: 'unavailable', code: 'insufficient_balance' },
  1103: { kind: 'unavailable', code: 'permission_denied' },
  1200: { kind: 'invalid', code: 'invalid_request' },
  1201: { kind: 'invalid', code: 'invalid_parameter' },
  1202: { kind: 'invalid', code: 'method_not_allowed' },
  // "resource not found": a model taken off the account (a policy change), not our typo
  1203: { kind: 'unavailable', code: 'model_not_found' },
  1300: { kind: 'unavailable', code: 'policy_blocked' },
  1301: { kind: 'rejected', code: 'content_violation' },
  1302: { kind: 'rate_limited', code: 'rate_limited', retryMs: 1_000 },
  // over the pack's concurrency: nothing was created, a slot frees when a running task ends
  1303: { kind: 'rate_limited', code: 'concurrency_limit_exceeded', retryMs: 10_000 },
  1304: { kind: 'unavailable', code: 'ip_not_allowed' },
  5000: { kind: 'transient', code: 'internal_error' },
  5001: { kind: 'transient', code: 'service_unavailable' },
  5002: { kind: 'transient', code: 'timeout' },
};

/** 1201 is "invalid parameter" for many things; these messages say which (live texts, §6-7). */
export const DUPLICATE_EXTERNAL_ID = 'duplicate_external_task_id';
const PARAMETER_MEANINGS: ReadonlyArray<[RegExp, ErrorKind, string]> = [
  [/external_task_id .*already exists/i, 'invalid', DUPLICATE_EXTERNAL_ID],
  [/element.*(deleted|not exist|not found|revoked|no permission)/i, 'unavailable', CHARACTER_REVOKED],
  [/not found/i, 'invalid', 'not_found'],
];

export interface KlingFailure {
  provider: string;
  status: number;
  /** Kling's business code, when the body had the contract's shape. */
  klingCode?: number;
  message?: string;
  retryAfter?: string | null;
  secrets: readonly string[];
}

/** A Kling error reply (or a non-zero code in a 200) as a classified ProviderError. */
export function classifyKlingFailure(failure: KlingFailure, now = Date.now()): ProviderError {
  const { provider, status, klingCode } = failure;
  const message = scrubSecrets(failure.message || `HTTP ${status}`, failure.secrets).slice(0, 500);
  const known = klingCode === undefined ? undefined : KLING_CODES[klingCode];
  let kind: ErrorKind;
  let code: string;
  if (known) {
    [kind, code] = [known.kind, known.code];
    if (klingCode === 1201 || klingCode === 1200) {
      const meaning = PARAMETER_MEANINGS.find(([pattern]) => pattern.test(message));
      if (meaning) [, kind, code] = meaning;
    }
  } else {
    // An unknown code, or no Kling body at all (a proxy's page): the HTTP status decides.
    code = klingCode === undefined ? `http_${status}` : `kling_${klingCode}`;
    kind =
      status === 429
        ? 'rate_limited'
        : status === 401 || status === 403 || (status === 404 && klingCode === undefined)
          ? 'unavailable'
          : status === 408 || status >= 500
            ? 'transient'
            : 'invalid';
  }
  const retryAfterMs = parseRetryAfterMs(failure.retryAfter ?? null, now) ?? known?.retryMs;
  return new ProviderError({
    kind,
    code,
    provider,
    status,
    message: `${provider}: ${klingCode === undefined ? '' : `${klingCode} `}${message}`,
    ...(retryAfterMs !== undefined && (kind === 'rate_limited' || kind === 'transient') ? { retryAfterMs } : {}),
  });
}
