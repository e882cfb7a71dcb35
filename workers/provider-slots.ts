import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { providerSlotsWorkflowId } from '../workflows/ids';
import { setSlotLimitSignal, type providerSlotsWorkflow } from '../workflows/provider-slots';
import type { ProviderProfile } from '../workflows/types';

/**
 * Every worker makes sure each provider's limiter runs on its task queue, with the limit from its
 * provider config (signal-with-start: started once, its limit updated by every later worker).
 * Series then share one concurrency limit per provider across series and worker processes.
 */
export async function ensureProviderSlots(
  client: Client,
  taskQueue: string,
  profiles: ProviderProfile[],
  logger: Logger,
): Promise<void> {
  for (const profile of profiles) {
    const limit = { limit: profile.maxConcurrency };
    const workflowId = providerSlotsWorkflowId(taskQueue, profile.name);
    await client.workflow.signalWithStart<typeof providerSlotsWorkflow, [typeof limit]>('providerSlotsWorkflow', {
      workflowId,
      taskQueue,
      args: [{ provider: profile.name, limit: profile.maxConcurrency }],
      signal: setSlotLimitSignal,
      signalArgs: [limit],
      staticSummary: `at most ${profile.maxConcurrency} scenes at once on ${profile.name}, for every series on ${taskQueue}`,
    });
    logger.info(
      { provider: profile.name, limit: profile.maxConcurrency, workflowId },
      'provider limit shared across workers',
    );
  }
}
