import {
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { providerSlotsWorkflowId } from '../ids';
import { slotAskSignal, slotGrantedSignal, slotReclaimSignal, slotReleaseSignal } from '../provider-slots';
import type { SeriesRun } from './state';
import { tell } from './tell';

/** A slot a scene runs in: `lease` slots are kept for the series' next scene (provider-slots.ts). */
export interface SlotHold {
  provider: string;
  key: string;
  lease: boolean;
}
export type SlotAnswer = SlotHold | 'unshared' | 'cancelled';

/** Patch: slots are leases the series keeps from scene to scene and gives back when asked or idle. */
const SLOT_LEASES = 'provider-slot-leases';

/** A provider's shared concurrency limit (provider-slots.ts), across every series and worker. */
export class SharedSlots {
  private readonly grants = new Set<string>();
  /** Providers no limiter runs for: the series window alone bounds them. */
  private readonly unshared = new Set<string>();
  /** Leases granted and free: a finished scene's, kept for the next scene on the provider. */
  private readonly idle = new Map<string, string[]>();
  /** Slots the limiter asked back, by provider: the next ones freed are returned, not kept. */
  private readonly owed = new Map<string, number>();
  private leases = 0;
  /** Set before the series continues as new or ends: nothing is kept any more. */
  private closing = false;

  constructor(
    private readonly run: SeriesRun,
    private readonly selfId: string,
  ) {}

  listen(): void {
    setHandler(slotGrantedSignal, ({ provider, key }) => void this.grants.add(`${provider}/${key}`));
    setHandler(slotReclaimSignal, ({ provider }) => {
      const lease = this.idle.get(provider)?.shift();
      if (lease) void this.giveBack(provider, lease);
      else this.owed.set(provider, (this.owed.get(provider) ?? 0) + 1);
    });
    // Kept leases go back as soon as the series cannot use them: paused, cancelled, or nothing left to start.
    void CancellationScope.nonCancellable(async () => {
      for (;;) {
        await condition(() => this.idleCount() > 0 && !this.keeping());
        await this.releaseIdle();
      }
    });
  }

  /** Waits for a slot on the provider (a kept lease first); `unshared` when no limiter runs for it. */
  async acquire(provider: string, sceneKey: string): Promise<SlotAnswer> {
    if (this.unshared.has(provider) || !patched('shared-provider-slots')) return 'unshared';
    const lease = patched(SLOT_LEASES);
    const kept = lease ? this.idle.get(provider)?.shift() : undefined;
    if (kept) return { provider, key: kept, lease };
    const key = lease ? `lease-${workflowInfo().runId.slice(0, 8)}-${++this.leases}` : sceneKey;
    try {
      await getExternalWorkflowHandle(limiterOf(provider)).signal(slotAskSignal, {
        holder: this.selfId,
        key,
        ...(lease ? { keeps: true } : {}),
      });
    } catch {
      this.unshared.add(provider);
      log.info('no shared limit runs for this provider: the series window alone bounds it', { provider });
      return 'unshared';
    }
    await condition(() => this.grants.has(`${provider}/${key}`) || !!this.run.state.cancelled);
    if (this.grants.has(`${provider}/${key}`)) return { provider, key, lease };
    await this.giveBack(provider, key);
    return 'cancelled';
  }

  /** The scene is done with its slot: a lease is kept for the next scene unless asked back or of no use. */
  async release(hold: SlotHold): Promise<void> {
    const owed = this.owed.get(hold.provider) ?? 0;
    if (hold.lease && owed === 0 && this.keeping()) {
      this.idle.set(hold.provider, [...(this.idle.get(hold.provider) ?? []), hold.key]);
      return;
    }
    if (owed > 0) this.owed.set(hold.provider, owed - 1);
    await this.giveBack(hold.provider, hold.key);
  }

  /** Gives every kept lease back (before continuing as new, at the end). */
  async close(): Promise<void> {
    this.closing = true;
    await CancellationScope.nonCancellable(() => this.releaseIdle());
  }

  private keeping(): boolean {
    const { state } = this.run;
    return !this.closing && !state.cancelled && !state.paused && this.run.hasWork();
  }

  private idleCount(): number {
    return [...this.idle.values()].reduce((n, keys) => n + keys.length, 0);
  }

  private async releaseIdle(): Promise<void> {
    const all = [...this.idle].flatMap(([provider, keys]) => keys.map((key) => ({ provider, key })));
    this.idle.clear();
    await Promise.all(all.map(({ provider, key }) => this.giveBack(provider, key)));
  }

  private async giveBack(provider: string, key: string): Promise<void> {
    this.grants.delete(`${provider}/${key}`);
    await tell(limiterOf(provider), slotReleaseSignal, { holder: this.selfId, key });
  }
}

function limiterOf(provider: string): string {
  return providerSlotsWorkflowId(workflowInfo().taskQueue, provider);
}
