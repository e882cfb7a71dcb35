import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { describeFailure } from './failure-info';

/**
 * One workflow per provider and task queue (`provider-slots/<task queue>/<provider>`) holds its concurrency limit for every
 * series on every worker: a series asks for a slot before it starts a scene there, and gives it
 * back when the scene ends. Workers start these at boot (workers/provider-slots.ts); without one,
 * series fall back to their own window.
 */

export interface SlotClaim {
  /** The asking series' workflow id: grants are signalled there. */
  holder: string;
  /** The holder's name for what the slot is for (`scene-<n>`). */
  key: string;
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

export interface SlotsView {
  provider: string;
  limit: number;
  held: Array<SlotClaim & { since: number }>;
  waiting: SlotClaim[];
  granted: number;
}
export const slotsQuery = defineQuery<SlotsView>('slots');

/** Grants per run before continuing as new (each grant is a handful of events). */
const GRANTS_PER_RUN = 1000;

export async function providerSlotsWorkflow(
  input: { provider: string; limit: number },
  carried?: Omit<SlotsView, 'provider'>,
): Promise<void> {
  const state: Omit<SlotsView, 'provider'> = carried ?? { limit: input.limit, held: [], waiting: [], granted: 0 };
  const same = (a: SlotClaim, b: SlotClaim) => a.holder === b.holder && a.key === b.key;
  let grantedThisRun = 0;

  setHandler(slotsQuery, () => ({ provider: input.provider, ...state }));
  setHandler(slotAskSignal, (claim) => {
    // Asked again (a retried signal, or a series replaying its ask): answer again, hold once.
    if (state.held.some((h) => same(h, claim))) void grant(claim);
    else if (!state.waiting.some((w) => same(w, claim))) state.waiting.push(claim);
  });
  setHandler(slotReleaseSignal, (claim) => {
    state.held = state.held.filter((h) => !same(h, claim));
    state.waiting = state.waiting.filter((w) => !same(w, claim));
  });
  setHandler(slotReleaseAllSignal, ({ holder }) => {
    state.held = state.held.filter((h) => h.holder !== holder);
    state.waiting = state.waiting.filter((w) => w.holder !== holder);
  });
  setHandler(setSlotLimitSignal, ({ limit }) => {
    if (Number.isInteger(limit) && limit > 0) state.limit = limit;
  });

  async function grant(claim: SlotClaim): Promise<void> {
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
      await condition(allHandlersFinished);
      return continueAsNew<typeof providerSlotsWorkflow>(input, state);
    }
    const claim = state.waiting.shift()!;
    state.held.push({ ...claim, since: Date.now() });
    state.granted++;
    grantedThisRun++;
    void grant(claim);
  }
}
