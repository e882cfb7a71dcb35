import type { IncomingHttpHeaders } from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { jobFinishedSignal, type JobFinished } from '../../workflows/messages';
import { SceneJobIds } from '../../workflows/search-attributes';
import { BadRequestError, NotFoundError } from './errors';
import { webhookEventSchema } from './schemas';
import { verifyWebhook, webhookSecretKey } from './webhook-signature';

/**
 * POST /webhooks/{provider}: an upstream says a job ended. Verified first (webhook-signature.ts);
 * nothing is looked up or signalled before that. Then the running scene waiting on that job is
 * found by its `SceneJobIds` search attribute and told with `jobFinished`, so it stops polling at
 * once. Polling stays the safety net: a webhook that finds no scene is answered 202 all the same.
 */

/** Events of the official contract that end a job; any other type is acknowledged and ignored. */
const JOB_EVENTS: Record<string, JobFinished['event']> = { 'video.completed': 'completed', 'video.failed': 'failed' };
/** Upstream job ids as the official contract mints them; anything else cannot be ours. */
const JOB_ID = /^[A-Za-z0-9_-]{1,200}$/;
/** Verified webhook ids remembered against replays; past the tolerance window a replay is stale anyway. */
const MAX_SEEN_IDS = 10_000;
/** Visibility lags a scene's search-attribute upsert a little: look again after these pauses. */
const DEFAULT_LOOKUP_DELAYS_MS = [250, 500, 1000, 1500];

export type WebhookOutcome =
  | { status: 'signalled'; scenes: string[] }
  | { status: 'no_waiting_scene' }
  | { status: 'duplicate' }
  | { status: 'ignored' };

export interface WebhookReceiverOptions {
  client: Client;
  logger: Logger;
  /** Signing secret (`whsec_...`) per official-contract provider name; a provider without one takes no webhooks. */
  secrets: Record<string, string>;
  lookupDelaysMs?: number[];
}

/** A visibility-query string literal: quotes and backslashes escaped (ids are checked before anyway). */
export const queryLiteral = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export class WebhookReceiver {
  private readonly keys = new Map<string, Buffer>();
  private readonly seen = new Set<string>();

  constructor(private readonly options: WebhookReceiverOptions) {
    for (const [provider, secret] of Object.entries(options.secrets))
      this.keys.set(provider, webhookSecretKey(secret, `webhook secret of provider "${provider}"`));
  }

  providers(): string[] {
    return [...this.keys.keys()];
  }

  async receive(provider: string, headers: IncomingHttpHeaders, body: Buffer): Promise<WebhookOutcome> {
    const key = this.keys.get(provider);
    if (!key) {
      throw new NotFoundError(
        `no webhooks for provider "${provider}": ${this.keys.size ? `webhooks are taken for ${this.providers().join(', ')}` : 'none is configured'} (set SORA_SERIES_WEBHOOK_SECRET for official-contract providers)`,
      );
    }
    const log = this.options.logger.child({ provider });
    let verified;
    try {
      verified = verifyWebhook(headers, body, key);
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'webhook refused');
      throw err;
    }
    const { webhookId } = verified;
    const event = parseEvent(body);
    if (this.seen.has(webhookId)) {
      log.info({ webhookId }, 'webhook replayed: already handled');
      return { status: 'duplicate' };
    }
    const kind = JOB_EVENTS[event.type];
    if (!kind) {
      this.remember(webhookId);
      log.info({ webhookId, type: event.type }, 'webhook of another type ignored');
      return { status: 'ignored' };
    }
    const jobId = event.data?.id;
    if (!jobId || !JOB_ID.test(jobId))
      throw new BadRequestError(`data.id: must be the job id (letters, digits, _ or -), got ${JSON.stringify(jobId)}`);
    this.remember(webhookId);
    try {
      const scenes = await this.signalWaitingScenes({ provider, jobId, event: kind });
      log.info(
        { webhookId, type: event.type, jobId, scenes },
        scenes.length ? 'webhook: scene told the job ended' : 'webhook: no running scene waits on this job',
      );
      return scenes.length ? { status: 'signalled', scenes } : { status: 'no_waiting_scene' };
    } catch (err) {
      // Temporal unreachable or the like: forget the id so the upstream's retry is handled.
      this.seen.delete(webhookId);
      throw err;
    }
  }

  private remember(webhookId: string): void {
    this.seen.add(webhookId);
    if (this.seen.size > MAX_SEEN_IDS) this.seen.delete(this.seen.values().next().value as string);
  }

  /** Finds the running scenes whose takes got this job id and signals each; retries while visibility catches up. */
  private async signalWaitingScenes(finished: JobFinished): Promise<string[]> {
    const query = `${SceneJobIds.name} = ${queryLiteral(finished.jobId)} AND ExecutionStatus = 'Running'`;
    const delays = this.options.lookupDelaysMs ?? DEFAULT_LOOKUP_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      const found: Array<{ workflowId: string; runId: string }> = [];
      for await (const execution of this.options.client.workflow.list({ query }))
        found.push({ workflowId: execution.workflowId, runId: execution.runId });
      const told: string[] = [];
      for (const { workflowId, runId } of found) {
        try {
          await this.options.client.workflow.getHandle(workflowId, runId).signal(jobFinishedSignal, finished);
          told.push(workflowId);
        } catch (err) {
          // It ended between the lookup and the signal: nothing waits any more.
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      if (told.length || attempt >= delays.length) return told;
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}

function parseEvent(body: Buffer) {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequestError(
      'the webhook body is not JSON: expected {id, object: "event", created_at, type, data: {id}}',
    );
  }
  const parsed = webhookEventSchema.safeParse(value);
  if (!parsed.success) {
    throw new BadRequestError(
      'the webhook body is not an event: expected {id, object: "event", created_at, type, data: {id}}',
      parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message })),
    );
  }
  return parsed.data;
}
