import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { describeFailure } from './failure-info';

/**
 * One workflow per provider and task queue (`provider-slots/<task queue>/<provider>`) holds its concurrency limit for every
 * series on every worker: a series asks for a slot before it starts a scene there. A series that
 * `keeps` its slots (a lease) hands one from a finished scene to its next one without a message,
 * so a slot costs messages only when it changes hands; when others wait, the limiter asks the
 * holder with the most slots to give one back (`slotReclaim`), and grants go to the waiting
 * series holding the fewest, so a large series cannot starve a small one. Workers start these at
 * boot (workers/provider-slots.ts); without one, series fall back to their own window.
 */

export interface SlotClaim {
  /** The asking series' workflow id: grants are signalled there. */
  holder: string;
  /** The holder's name for the slot (`scene-<n>`, or a lease `lease-<run>-<n>`). */
  key: string;
  /** The holder keeps the slot for its next scene and gives it back when asked (slotReclaim). */
  keeps?: boolean;
}
export interface SlotGrant {
  provider: string;
  key: string;
}

export const slotAskSignal = defineSignal<[SlotClaim]>('slotAsk');
export const slotReleaseSignal = defineSignal<[SlotClaim]>('slotRelease');
/** Releases everything a holder has or waits for (e.g. after it was terminated). */
export const slotReleaseAllSignal = defineSignal<[{ holder: string }]>('slotReleaseAll');
export const setSlotLimitSignal = defineSignal<[{ limit: number }]>('setSlotLimit');
export const slotGrantedSignal = defineSignal<[SlotGrant]>('slotGranted');
/** To a holder that keeps slots: give one of this provider's back (others wait with fewer). */
export const slotReclaimSignal = defineSignal<[{ provider: string }]>('slotReclaim');

export interface SlotsView {
  provider: string;
  limit: number;
  held: Array<SlotClaim & { since: number }>;
  waiting: SlotClaim[];
  granted: number;
  /** Slots asked back and not yet returned, by holder. */
  reclaiming?: Record<string, number>;
  /** Reclaims sent so far. */
  reclaimed?: number;
}
export const slotsQuery = defineQuery<SlotsView>('slots');

/** Patch: grants to the waiting series holding the fewest slots, reclaims from those keeping the most. */
const FAIR_SLOTS = 'provider-slots-fair';

/** Patch: a run continues as new only once its grant and reclaim signals are delivered. */
const DRAIN_BEFORE_CONTINUE = 'provider-slots-drain-before-continue';

/** Grants per run before continuing as new (each grant is a handful of events). */
const GRANTS_PER_RUN = 1000;

export async function providerSlotsWorkflow(
  input: { provider: string; limit: number },
  carried?: Omit<SlotsView, 'provider'>,
): Promise<void> {
  const state: Omit<SlotsView, 'provider'> = carried ?? { limit: input.limit, held: [], waiting: [], granted: 0 };
  const same = (a: SlotClaim, b: SlotClaim) => a.holder === b.holder && a.key === b.key;
  let grantedThisRun = 0;
  /** Grant and reclaim signals on their way. */
  let sending = 0;

  setHandler(slotsQuery, () => ({ provider: input.provider, ...state }));
  setHandler(slotAskSignal, (claim) => {
    // Asked again (a retried signal, or a series replaying its ask): answer again, hold once.
    if (state.held.some((h) => same(h, claim))) void grant(claim);
    else if (!state.waiting.some((w) => same(w, claim))) {
      state.waiting.push(claim);
      if (patched(FAIR_SLOTS)) reclaimForWaiters();
    }
  });
  setHandler(slotReleaseSignal, (claim) => {
    if (state.held.some((h) => same(h, claim))) returned(claim.holder);
    state.held = state.held.filter((h) => !same(h, claim));
    state.waiting = state.waiting.filter((w) => !same(w, claim));
  });
  setHandler(slotReleaseAllSignal, ({ holder }) => forget(holder));
  setHandler(setSlotLimitSignal, ({ limit }) => {
    if (Number.isInteger(limit) && limit > 0) state.limit = limit;
  });

  const reclaiming = (holder: string) => state.reclaiming?.[holder] ?? 0;
  /** Slots held per series, counted once per decision: scanning `held` per waiting claim was quadratic at 1,000 of each. */
  const heldCounts = (): Map<string, number> => {
    const counts = new Map<string, number>();
    for (const h of state.held) counts.set(h.holder, (counts.get(h.holder) ?? 0) + 1);
    return counts;
  };
  function returned(holder: string): void {
    if (reclaiming(holder) > 0) state.reclaiming![holder]--;
    if (state.reclaiming?.[holder] === 0) delete state.reclaiming[holder];
  }
  function forget(holder: string): void {
    state.held = state.held.filter((h) => h.holder !== holder);
    state.waiting = state.waiting.filter((w) => w.holder !== holder);
    if (state.reclaiming) delete state.reclaiming[holder];
  }

  /** The next claim to grant: of the waiting series holding the fewest slots, the longest waiting. */
  function fairest(): number {
    const counts = heldCounts();
    const heldBy = (holder: string) => counts.get(holder) ?? 0;
    let best = 0;
    for (let i = 1; i < state.waiting.length; i++)
      if (heldBy(state.waiting[i].holder) < heldBy(state.waiting[best].holder)) best = i;
    return best;
  }

  /**
   * All slots held and claims waiting: ask the holders keeping more than a fair share (the limit
   * split evenly between every series holding or waiting) for one slot back each, no more asks
   * out at once than there are claims waiting.
   */
  function reclaimForWaiters(): void {
    if (state.held.length < state.limit) return;
    const counts = heldCounts();
    const heldBy = (holder: string) => counts.get(holder) ?? 0;
    const outstanding = () => Object.values(state.reclaiming ?? {}).reduce((a, b) => a + b, 0);
    const series = new Set([...state.held, ...state.waiting].map((c) => c.holder));
    const fairShare = Math.ceil(state.limit / series.size);
    const spare = (holder: string) => heldBy(holder) - reclaiming(holder);
    if (!state.waiting.some((w) => heldBy(w.holder) < fairShare)) return; // no one waits below its share
    const keepers = [...new Set(state.held.filter((h) => h.keeps).map((h) => h.holder))];
    while (state.held.length >= state.limit && state.waiting.length > outstanding()) {
      const most = [...keepers].sort((a, b) => spare(b) - spare(a))[0];
      if (most === undefined || spare(most) <= fairShare) return;
      state.reclaiming = { ...state.reclaiming, [most]: reclaiming(most) + 1 };
      state.reclaimed = (state.reclaimed ?? 0) + 1;
      void reclaim(most);
    }
  }

  async function reclaim(holder: string): Promise<void> {
    sending++;
    try {
      await getExternalWorkflowHandle(holder).signal(slotReclaimSignal, { provider: input.provider });
    } catch (err) {
      // The holder is gone: every slot it kept is free again.
      log.warn('slot holder gone: its slots freed', { holder, error: describeFailure(err).message });
      forget(holder);
    } finally {
      sending--;
    }
  }

  async function grant(claim: SlotClaim): Promise<void> {
    sending++;
    try {
      await getExternalWorkflowHandle(claim.holder).signal(slotGrantedSignal, {
        provider: input.provider,
        key: claim.key,
      });
    } catch (err) {
      // The holder is gone (terminated, finished): its slot is free again.
      log.warn('slot holder gone: slot freed', {
        holder: claim.holder,
        key: claim.key,
        error: describeFailure(err).message,
      });
      state.held = state.held.filter((h) => !same(h, claim));
    } finally {
      sending--;
    }
  }

  for (;;) {
    await condition(
      () =>
        (state.waiting.length > 0 && state.held.length < state.limit) ||
        grantedThisRun >= GRANTS_PER_RUN ||
        workflowInfo().continueAsNewSuggested,
    );
    if (grantedThisRun >= GRANTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      // Grants still being signalled would be lost with this run, and their holders wait forever.
      if (patched(DRAIN_BEFORE_CONTINUE)) await condition(() => sending === 0);
      await condition(allHandlersFinished);
      return continueAsNew<typeof providerSlotsWorkflow>(input, state);
    }
    const [claim] = state.waiting.splice(patched(FAIR_SLOTS) ? fairest() : 0, 1);
    state.held.push({ ...claim, since: Date.now() });
    state.granted++;
    grantedThisRun++;
    void grant(claim);
  }
}
