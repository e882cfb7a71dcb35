import type { IncomingHttpHeaders } from 'node:http';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { jobFinishedSignal, type JobFinished } from '../../workflows/messages';
import { SceneJobIds } from '../../workflows/search-attributes';
import { queryLiteral } from '../series/list';
import { NotFoundError } from './errors';
import type { WebhookNotice, WebhookVerifier } from './webhook-verifiers';

/**
 * POST /webhooks/{provider}: an upstream says a job ended. Verified first (webhook-verifiers.ts);
 * nothing is looked up or signalled before that. Then the running scene waiting on that job is
 * found by its `SceneJobIds` search attribute and told with `jobFinished`, so it stops polling at
 * once. Polling stays the safety net: a webhook that finds no scene is answered 202 all the same.
 */

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
  /** One verifier per provider that takes webhooks (webhook-verifiers.ts); others are polled only. */
  verifiers: Record<string, WebhookVerifier>;
  lookupDelaysMs?: number[];
}

export class WebhookReceiver {
  private readonly seen = new Set<string>();

  constructor(private readonly options: WebhookReceiverOptions) {}

  providers(): string[] {
    return Object.keys(this.options.verifiers);
  }

  async receive(provider: string, headers: IncomingHttpHeaders, body: Buffer): Promise<WebhookOutcome> {
    const verify = Object.hasOwn(this.options.verifiers, provider) ? this.options.verifiers[provider] : undefined;
    if (!verify) {
      const known = this.providers();
      throw new NotFoundError(
        `no webhooks for provider "${provider}": ${known.length ? `webhooks are taken for ${known.join(', ')}` : 'none is configured'} (\`sora-series providers check\` says what each provider needs)`,
      );
    }
    const log = this.options.logger.child({ provider });
    let notice: WebhookNotice;
    try {
      notice = await verify(headers, body);
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'webhook refused');
      throw err;
    }
    const { jobId, event, type } = notice;
    // Delivery ids are unique per sender, not across providers.
    const webhookId = `${provider}:${notice.webhookId}`;
    if (this.seen.has(webhookId)) {
      log.info({ webhookId }, 'webhook replayed: already handled');
      return { status: 'duplicate' };
    }
    if (!event || !jobId) {
      this.remember(webhookId);
      log.info({ webhookId, type }, 'webhook of another type ignored');
      return { status: 'ignored' };
    }
    this.remember(webhookId);
    try {
      const scenes = await this.signalWaitingScenes({ provider, jobId, event });
      log.info(
        { webhookId, type, jobId, scenes },
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
