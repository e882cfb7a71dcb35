/**
 * What every activity log line says about the work it serves: series, scene, take, provider,
 * job. Derived in this one place from the activity's workflow id and its input, so activities
 * need not pass them around, and the SDK's own activity lines (failures) carry them too.
 */
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { parseEpisodeWorkflowId, parseSceneWorkflowId, parseTakeIdempotencyKey } from '../workflows/ids';
import { currentActivityContext } from './activity-context';

export interface ActivityLogFields {
  /** The series workflow id (`series/<name>`), for its scenes' and episodes' activities too. */
  seriesId?: string;
  /** Scene index, for activities of a scene workflow. */
  scene?: number;
  take?: number;
  provider?: string;
  jobId?: string;
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** The fields for an activity of workflow `workflowId` called with `input` (its first argument). */
export function activityLogFields(workflowId: string | undefined, input: unknown): ActivityLogFields {
  const fields: ActivityLogFields = {};
  if (workflowId) {
    const scene = parseSceneWorkflowId(workflowId);
    fields.seriesId = scene?.seriesId ?? parseEpisodeWorkflowId(workflowId)?.seriesId ?? workflowId;
    if (scene) fields.scene = scene.index;
  }
  if (input && typeof input === 'object') {
    const { idempotencyKey, take, provider, jobId } = input as Record<string, unknown>;
    const key = text(idempotencyKey);
    const fromKey = key ? parseTakeIdempotencyKey(key) : undefined;
    if (fromKey) fields.take = fromKey.take;
    else if (typeof take === 'number') fields.take = take;
    if (text(provider)) fields.provider = provider as string;
    if (text(jobId)) fields.jobId = jobId as string;
  }
  return fields;
}

const byContext = new WeakMap<Context, ActivityLogFields>();

const fieldsOf = (ctx: Context, input?: unknown) => activityLogFields(ctx.info.workflowExecution?.workflowId, input);

/** Worker interceptor: records each activity's fields and adds them to the SDK's activity log lines. */
export const activityLogContext: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute(input, next) {
      byContext.set(ctx, fieldsOf(ctx, input.args[0]));
      return next(input);
    },
  },
  outbound: {
    getLogAttributes: (attributes, next) => next({ ...attributes, ...(byContext.get(ctx) ?? fieldsOf(ctx)) }),
  },
});

/** The current activity's fields; without the interceptor (mock environments), those of its workflow id. */
export function currentLogFields(): ActivityLogFields {
  const ctx = currentActivityContext();
  if (!ctx) return {};
  return byContext.get(ctx) ?? fieldsOf(ctx);
}
