import { condition, getExternalWorkflowHandle, log, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { providerSlotsWorkflowId } from '../ids';
import { slotAskSignal, slotGrantedSignal, slotReleaseSignal } from '../provider-slots';
import type { SeriesRun } from './state';
import { tell } from './tell';

export type SlotAnswer = 'granted' | 'unshared' | 'cancelled';

/** A provider's shared concurrency limit (provider-slots.ts), across every series and worker. */
export class SharedSlots {
  private readonly grants = new Set<string>();
  /** Providers no limiter runs for: the series window alone bounds them. */
  private readonly unshared = new Set<string>();

  constructor(
    private readonly run: SeriesRun,
    private readonly selfId: string,
  ) {}

  listen(): void {
    setHandler(slotGrantedSignal, ({ provider, key }) => void this.grants.add(`${provider}/${key}`));
  }

  /** Waits for a slot on the provider; `unshared` when no limiter runs for it. */
  async acquire(provider: string, key: string): Promise<SlotAnswer> {
    if (this.unshared.has(provider) || !patched('shared-provider-slots')) return 'unshared';
    try {
      await getExternalWorkflowHandle(limiterOf(provider)).signal(slotAskSignal, { holder: this.selfId, key });
    } catch {
      this.unshared.add(provider);
      log.info('no shared limit runs for this provider: the series window alone bounds it', { provider });
      return 'unshared';
    }
    await condition(() => this.grants.has(`${provider}/${key}`) || !!this.run.state.cancelled);
    if (this.grants.has(`${provider}/${key}`)) return 'granted';
    await this.release(provider, key);
    return 'cancelled';
  }

  async release(provider: string, key: string): Promise<void> {
    this.grants.delete(`${provider}/${key}`);
    await tell(limiterOf(provider), slotReleaseSignal, { holder: this.selfId, key });
  }
}

function limiterOf(provider: string): string {
  return providerSlotsWorkflowId(workflowInfo().taskQueue, provider);
}
