/**
 * Ark's wire for the seedance adapter: the bodies it answers with (zod), its error codes by kind,
 * and the pure helpers a take needs (its seed, its image mentions, the task-list match, signed
 * URL expiry, what a lost answer was).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ErrorKind } from '../../workflows/types';
import type { JobState } from './provider';
import type { ReferenceStyle, SeedanceFormat } from './seedance-config';

export const createdBody = z.object({ id: z.string().min(1) });
const taskStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled']);
export const taskBody = z.object({
  id: z.string().min(1),
  model: z.string().nullish(),
  status: taskStatus,
  content: z
    .object({ video_url: z.url({ protocol: /^https?$/ }).nullish(), last_frame_url: z.string().nullish() })
    .nullish(),
  usage: z.object({ completion_tokens: z.number().nonnegative().nullish() }).nullish(),
  created_at: z.number(),
  seed: z.number().nullish(),
  resolution: z.string().nullish(),
  ratio: z.string().nullish(),
  duration: z.number().nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
export type TaskBody = z.infer<typeof taskBody>;
export const listBody = z.object({ total: z.number().nullish(), items: z.array(taskBody) });
export const errorBody = z.object({
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }),
});

export const STATE_BY_STATUS: Record<z.infer<typeof taskStatus>, JobState> = {
  queued: 'queued',
  running: 'running',
  succeeded: 'completed',
  failed: 'failed',
  expired: 'failed',
  cancelled: 'failed',
};
/** Ark reports no percentage: a rough midpoint while running. */
export const RUNNING_PROGRESS = 50;

/**
 * Ark's error codes by kind (seedance.md §7); prefixes cover the dotted sub-codes
 * (`InvalidParameter.TaskTypeConstraint`, `...SensitiveContentDetected.PrivacyInformation`).
 */
const ARK_KINDS: ReadonlyArray<[RegExp, ErrorKind]> = [
  [/SensitiveContentDetected/, 'rejected'],
  [/^(MissingParameter|InvalidParameter)(\.|$)/, 'invalid'],
  // a closed or unknown endpoint, a model not switched on, a bad key or an empty account: this provider cannot serve us
  [/^InvalidEndpoint\.(ClosedEndpoint|NotFound)$/, 'unavailable'],
  [/^(ModelNotOpen|AccessDenied|AccountOverdueError|AuthenticationError)(\.|$)/, 'unavailable'],
  [/^(RateLimitExceeded|QuotaExceeded)(\.|$)|^ModelAccount(Rpm|Tpm)RateLimitExceeded$/, 'rate_limited'],
  [/^(ServerOverloaded|ModelLoadingError|InternalServiceError)(\.|$)/, 'transient'],
  [/^NotFound(\.|$)/, 'invalid'],
];

export function arkKind(code: string | undefined): ErrorKind | undefined {
  if (!code) return undefined;
  return ARK_KINDS.find(([pattern]) => pattern.test(code))?.[1];
}

/** Where a lost create answer came from: the request may have reached Ark. */
export class AnswerLost extends Error {
  override name = 'AnswerLost';
}

export type Format = Pick<SeedanceFormat, 'resolution' | 'ratio'>;

export interface TaskMatch extends Format {
  seed: number;
  seconds: number;
}

/** The seed a take always sends: from its key, so the task list tells its task from any other. */
export function takeSeed(idempotencyKey: string): number {
  return createHash('sha256').update(`seedance-seed\u0000${idempotencyKey}`).digest().readUInt32BE(0);
}

/** `Mira (Image 1; also Image 2 and Image 3)` in the configured style. */
export function imageMention(name: string, numbers: number[], style: ReferenceStyle): string {
  const label = (n: number) => (style === '@ImageN' ? `@Image${n}` : style === '[图N]' ? `[图${n}]` : `Image ${n}`);
  const [first, ...more] = numbers.map(label);
  const also = more.length
    ? `; also ${more.length > 1 ? `${more.slice(0, -1).join(', ')} and ` : ''}${more.at(-1)}`
    : '';
  return `${name} (${first}${also})`;
}

export function sameParameters(task: TaskBody, match: TaskMatch): boolean {
  // a task that echoes no duration tells too little to be told apart
  return (
    task.duration === match.seconds &&
    (task.ratio == null || task.ratio === match.ratio) &&
    (task.resolution == null || task.resolution === match.resolution)
  );
}

/** When a TOS-signed URL dies (`X-Tos-Date` + `X-Tos-Expires` s), if it says; undefined otherwise. */
export function signedUrlExpiry(url: string): number | undefined {
  const query = new URL(url).searchParams;
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Tos-Date') ?? '');
  const expires = Number(query.get('X-Tos-Expires') ?? NaN);
  if (!date || !Number.isFinite(expires)) return undefined;
  const [, y, mo, d, h, mi, se] = date;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${se}Z`) + expires * 1000;
}

export function causeCode(err: unknown): string {
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
  return (cause as { code?: string } | undefined)?.code ?? '';
}

export function describeLoss(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') return 'no answer within the timeout';
  return causeCode(err) || (err instanceof Error ? err.message : String(err));
}
