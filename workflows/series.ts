import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  setHandler,
  type SignalDefinition,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { local, upstream } from './activities';
import { budgetView, fits, type Ledger } from './budget';
import { describeFailure } from './failure-info';
import {
  addScenesUpdate,
  appendScenesSignal,
  cancelSignal,
  characterNeededSignal,
  characterReadySignal,
  endOfScenesSignal,
  pauseSignal,
  raiseBudgetUpdate,
  resumeSignal,
  retrySceneUpdate,
  reviewTakeUpdate,
  seriesStatusQuery,
  setRoutingUpdate,
  takeBudgetAnswerSignal,
  takeBudgetAskSignal,
  type CharacterAnswer,
  type Pause,
  type RetryRequest,
  type SeriesStatusView,
  type TakeBudgetAnswer,
  type TakeBudgetAsk,
} from './messages';
import { buildPassport } from './passport';
import { roundUsd, takePriceUsd } from './pricing';
import { healthAt, routeScene, windowSize, type OpenCircuit } from './routing';
import { providerSlotsWorkflowId, sceneSlotKey, sceneWorkflowId } from './ids';
import { slotAskSignal, slotGrantedSignal, slotReleaseSignal } from './provider-slots';
import { sceneWorkflow } from './scene';
import { awaitsReview, mergeRetake, withChosenTake } from './scene-results';
import {
  resolveNewScene,
  resolveNewScenes,
  reviewNoteProblems,
  scenePromptProblems,
  type SceneContext,
} from './scene-rules';
import {
  ProvidersUsed,
  SceneIndex,
  ScenesDone,
  ScenesTotal,
  SeriesCostUsd,
  SeriesId,
  SeriesStatusKey,
} from './search-attributes';
import type {
  CharacterPassport,
  ProviderProfile,
  RoutingPolicy,
  SceneResult,
  SceneSpec,
  SeriesInput,
  SeriesResult,
  SeriesStatus,
} from './types';

/** What a run hands to the next one on continue-as-new: plain objects and arrays only. */
export interface SeriesState {
  profiles: ProviderProfile[];
  passport: CharacterPassport;
  /** Providers found unavailable (the circuit per provider). */
  circuits: Record<string, OpenCircuit>;
  results: SceneResult[];
  next: number;
  // Steering (absent in states carried by runs from before messages existed).
  retries?: RetryRequest[];
  paused?: Pause;
  cancelled?: { reason: string };
  endOfScenes?: boolean;
  refusedScenes?: Array<{ prompt: string; problem: string }>;
}

/** Started children per run before continuing as new: about 12 events each keeps a run far under 10,000. */
const SCENES_PER_RUN = 200;
const DEFAULT_CIRCUIT_COOLDOWN_SECONDS = 600;
const DEFAULT_SCENE_DEFAULTS = { seconds: 10, size: '720x1280' };
const ROUTING_POLICIES: RoutingPolicy[] = ['character', 'cost', 'stability'];

/** A scene about to start: a new one, or a retake of a finished one. */
interface Work {
  scene: SceneSpec;
  retake?: RetryRequest;
}

/**
 * A series: ensure the character, run every scene as a child in a sliding window bounded by
 * provider concurrency and the budget, route around providers found down, obey the messages
 * people and services send (messages.ts), and end with a manifest.
 */
export async function seriesWorkflow(input: SeriesInput, carried?: SeriesState): Promise<SeriesResult> {
  const selfId = workflowInfo().workflowId;
  // Mutable copy: messages add scenes, change routing, raise the budget; carried on continue-as-new.
  const series: SeriesInput = { ...input, scenes: [...input.scenes] };
  let ended: SeriesStatus | undefined;
  const written: { manifestPath?: string } = {};
  const running = new Set<number>();
  const pendingRefs: Record<string, Promise<CharacterAnswer>> = {};
  const asks: TakeBudgetAsk[] = [];
  /** What waits for budget now (`next` scene or a scene's take), and the amount it needs. */
  const budgetWaits: Record<string, number> = {};

  // Handlers are registered before the first await (messages may arrive with the start); until the
  // profiles and the character are ready, `prepared` is false and scene checks wait for them.
  const state: SeriesState = carried ?? {
    profiles: [],
    passport: { name: input.character.name, description: input.character.description, refs: {}, refused: {} },
    circuits: {},
    results: [],
    next: 0,
  };
  let prepared = !!carried;
  state.retries ??= [];
  state.refusedScenes ??= [];
  const costUsd = () => roundUsd(state.results.reduce((sum, r) => sum + r.costUsd, 0));
  const ledger: Ledger = { budgetUsd: series.budgetUsd, spentUsd: costUsd(), held: {} };
  const resultOf = (index: number) => state.results.find((r) => r.index === index);
  const sceneCtx = (): SceneContext => ({
    providers: series.providers,
    // Not known yet while the series prepares: capability checks then run in the handler.
    profiles: prepared ? state.profiles : undefined,
    defaults: series.defaults ?? DEFAULT_SCENE_DEFAULTS,
  });
  // Declarations (hoisted): handlers registered below may run before the main loop.
  function needsReview(): number[] {
    return series.approval === 'required' ? state.results.filter(awaitsReview).map((r) => r.index) : [];
  }
  function hasWork(): boolean {
    return state.retries!.length > 0 || state.next < series.scenes.length;
  }
  function waitingForMore(): boolean {
    return (series.streaming && !state.endOfScenes) || needsReview().length > 0;
  }

  const openCircuit = (provider: string, reason: string) => {
    const reopened = provider in state.circuits;
    state.circuits[provider] = { since: Date.now(), reason };
    log.warn(reopened ? 'provider still unavailable: circuit reopened' : 'provider unavailable: circuit opened', {
      provider,
      reason,
    });
  };
  // Before the cooldown existed a down provider stayed down for the series; keep that on replay.
  const cooldownMs = patched('circuit-cooldown')
    ? (input.circuitCooldownSeconds ?? DEFAULT_CIRCUIT_COOLDOWN_SECONDS) * 1000
    : Infinity;
  const health = () => healthAt(state.circuits, Date.now(), cooldownMs);
  const route = (scene: SceneSpec) =>
    routeScene({ policy: series.routing, scene, profiles: state.profiles, health: health(), passport: state.passport });
  const priceOn = (provider: string | undefined, scene: SceneSpec) => {
    const profile = state.profiles.find((p) => p.name === provider);
    return profile ? takePriceUsd(profile, scene.seconds, scene.size) : 0;
  };

  // ---- status: what the query shows and the search attribute says ----
  const pause = (): Pause | undefined => {
    if (state.paused) return state.paused;
    const waiting = Object.entries(budgetWaits);
    if (!waiting.length || ledger.budgetUsd === undefined) return undefined;
    const [what, usd] = waiting[0];
    const view = budgetView(ledger);
    return {
      by: 'budget',
      reason: `budget: ${what} needs $${usd.toFixed(2)} but $${(view.remainingUsd ?? 0).toFixed(2)} of $${ledger.budgetUsd.toFixed(2)} remains; raise the budget (raiseBudget) or cancel`,
      since: budgetPausedSince,
    };
  };
  let budgetPausedSince = 0;
  const liveStatus = (): SeriesStatus =>
    ended ??
    (pause() ? 'paused' : running.size === 0 && !hasWork() && needsReview().length ? 'awaiting_approval' : 'running');
  let published: SeriesStatus = 'running';
  const publishStatus = () => {
    const now = liveStatus();
    if (now === published) return;
    published = now;
    upsertSearchAttributes([{ key: SeriesStatusKey, value: now }]);
  };
  const waitForBudget = (what: string, usd: number) => {
    if (!Object.keys(budgetWaits).length) {
      budgetPausedSince = Date.now();
      log.warn('budget reached: series paused', { what, needUsd: usd, ...budgetView(ledger) });
    }
    budgetWaits[what] = usd;
    publishStatus();
  };
  const budgetWaitOver = (what: string) => {
    if (!(what in budgetWaits)) return;
    delete budgetWaits[what];
    if (!Object.keys(budgetWaits).length)
      log.info('budget allows submissions again: series resumed', { ...budgetView(ledger) });
    publishStatus();
  };

  setHandler(seriesStatusQuery, (): SeriesStatusView => {
    const paused = pause();
    return {
      name: series.name,
      status: liveStatus(),
      ...(paused ? { paused } : {}),
      ...(state.cancelled ? { cancelled: state.cancelled } : {}),
      routing: series.routing,
      budget: budgetView(ledger),
      scenesTotal: series.scenes.length,
      scenesDone: state.results.length,
      running: [...running],
      queued: [...(state.retries ?? []).map((r) => r.index), ...series.scenes.slice(state.next).map((s) => s.index)],
      awaitingReview: needsReview().sort((a, b) => a - b),
      costUsd: costUsd(),
      providerHealth: health(),
      circuits: state.circuits,
      character: {
        name: state.passport.name,
        providers: Object.keys(state.passport.refs),
        refused: state.passport.refused,
      },
      scenes: state.results,
      refusedScenes: state.refusedScenes ?? [],
      manifestPath: written.manifestPath,
    };
  });

  // ---- the character, created once per provider ----
  const characterOn = (provider: string): Promise<CharacterAnswer> => {
    // An unavailable answer is not kept: after the cooldown the provider may be asked again.
    pendingRefs[provider] ??= ensureCharacterRef(state, provider, openCircuit).then((answer) => {
      if ('unavailable' in answer) delete pendingRefs[provider];
      return answer;
    });
    return pendingRefs[provider];
  };
  setHandler(characterNeededSignal, async ({ provider, sceneWorkflowId }) => {
    const answer = await characterOn(provider);
    await tell(sceneWorkflowId, characterReadySignal, answer);
  });

  // ---- steering messages ----
  const refuseIfEnded = (what: string) => {
    if (state.cancelled)
      throw new Error(`${what}: the series is cancelled (${state.cancelled.reason}); start a new series instead`);
  };
  setHandler(pauseSignal, (request) => {
    state.paused = { by: 'user', reason: request?.reason ?? 'paused by request', since: Date.now() };
    log.info('series paused', { reason: state.paused.reason });
    publishStatus();
  });
  setHandler(resumeSignal, () => {
    if (state.paused) log.info('series resumed');
    state.paused = undefined;
    publishStatus();
  });
  setHandler(cancelSignal, (request) => {
    state.cancelled ??= { reason: request?.reason ?? 'cancelled by request' };
    log.warn('series cancelled: no new submissions, running jobs finish', { reason: state.cancelled.reason });
  });
  setHandler(endOfScenesSignal, () => {
    state.endOfScenes = true;
  });
  const appendResolved = (scenes: SceneSpec[]) => {
    series.scenes.push(...scenes);
    upsertSearchAttributes([{ key: ScenesTotal, value: series.scenes.length }]);
    return scenes.map((s) => s.index);
  };
  setHandler(
    addScenesUpdate,
    async (scenes) => {
      await condition(() => prepared);
      const resolved = resolveNewScenes(scenes, series.scenes.length + 1, sceneCtx());
      if ('problems' in resolved)
        throw ApplicationFailure.create({
          type: 'InvalidScenes',
          message: resolved.problems.join('; '),
          nonRetryable: true,
        });
      return { indexes: appendResolved(resolved.scenes) };
    },
    {
      validator: (scenes) => {
        refuseIfEnded('addScenes');
        const resolved = resolveNewScenes(scenes, series.scenes.length + 1, sceneCtx());
        if ('problems' in resolved) throw new Error(resolved.problems.join('; '));
      },
    },
  );
  setHandler(appendScenesSignal, async (scenes) => {
    await condition(() => prepared);
    // A signal cannot be refused: valid scenes are appended, the others listed in status with why.
    for (const scene of Array.isArray(scenes) ? scenes : [scenes]) {
      const one = resolveNewScene(scene, series.scenes.length + 1, sceneCtx());
      if ('scene' in one && !state.cancelled) appendResolved([one.scene]);
      else {
        const problem = 'problems' in one ? one.problems.join('; ') : 'the series is cancelled';
        state.refusedScenes!.push({
          prompt: String((scene as { prompt?: unknown })?.prompt ?? '').slice(0, 200),
          problem,
        });
        log.warn('appended scene refused', { problem });
      }
    }
  });
  const validateRetry = (request: RetryRequest) => {
    refuseIfEnded('retryScene');
    const scene = series.scenes.find((s) => s.index === request?.index);
    if (!scene) throw new Error(`index: no scene ${request?.index}; scenes are 1..${series.scenes.length}`);
    if (running.has(scene.index) || !resultOf(scene.index) || state.retries!.some((r) => r.index === scene.index)) {
      throw new Error(
        `index: scene ${scene.index} has not finished (running or queued); retry it once it has a result`,
      );
    }
    if (request.prompt !== undefined) {
      const problems = scenePromptProblems(request.prompt);
      if (problems.length) throw new Error(problems.join('; '));
    }
    if (request.provider !== undefined) {
      const resolved = resolveNewScene(
        {
          prompt: request.prompt ?? scene.prompt,
          seconds: scene.seconds,
          size: scene.size,
          provider: request.provider,
        },
        scene.index,
        sceneCtx(),
      );
      if ('problems' in resolved) throw new Error(resolved.problems.join('; '));
    }
  };
  setHandler(
    retrySceneUpdate,
    async (request) => {
      await condition(() => prepared);
      validateRetry(request);
      state.retries!.push(request);
      return { index: request.index, queued: true as const };
    },
    { validator: (request) => validateRetry(request) },
  );
  setHandler(
    reviewTakeUpdate,
    ({ index, take, verdict, note }) => {
      const scene = resultOf(index)!;
      const reviewed = {
        ...scene,
        takes: scene.takes.map((t) => (t.take === take ? { ...t, review: { verdict, ...(note ? { note } : {}) } } : t)),
      };
      state.results[state.results.indexOf(scene)] = withChosenTake(reviewed);
      log.info('take reviewed', { index, take, verdict });
      publishStatus();
      return { index, take, verdict };
    },
    {
      validator: (request) => {
        if (request?.verdict !== 'approve' && request?.verdict !== 'reject')
          throw new Error('verdict: must be "approve" or "reject"');
        const scene = resultOf(request.index);
        if (!scene)
          throw new Error(`index: scene ${request.index} has no finished take yet; review it once it has one`);
        const take = scene.takes.find((t) => t.take === request.take);
        if (!take)
          throw new Error(
            `take: scene ${request.index} has takes ${scene.takes.map((t) => t.take).join(', ')}; name one of them`,
          );
        if (take.outcome !== 'completed' || !take.assetPath)
          throw new Error(
            `take: take ${request.take} of scene ${request.index} ended ${take.outcome}; only completed takes can be reviewed`,
          );
        const noteProblems = reviewNoteProblems(request.note);
        if (noteProblems.length) throw new Error(noteProblems.join('; '));
      },
    },
  );
  setHandler(
    setRoutingUpdate,
    ({ routing }) => {
      const previous = series.routing;
      series.routing = routing;
      log.info('routing changed', { routing, previous });
      return { routing, previous };
    },
    {
      validator: (request) => {
        if (!ROUTING_POLICIES.includes(request?.routing))
          throw new Error(
            `routing: must be one of ${ROUTING_POLICIES.join(', ')}, got ${JSON.stringify(request?.routing)}`,
          );
      },
    },
  );
  setHandler(
    raiseBudgetUpdate,
    ({ budgetUsd }) => {
      series.budgetUsd = ledger.budgetUsd = budgetUsd;
      log.info('budget raised', { budgetUsd });
      return budgetView(ledger);
    },
    {
      validator: (request) => {
        refuseIfEnded('raiseBudget');
        const usd = request?.budgetUsd;
        if (typeof usd !== 'number' || !Number.isFinite(usd) || usd <= 0)
          throw new Error(`budgetUsd: must be a number of USD above 0, got ${JSON.stringify(usd)}`);
        if (ledger.budgetUsd !== undefined && usd <= ledger.budgetUsd) {
          throw new Error(
            `budgetUsd: must be more than the current budget $${ledger.budgetUsd}; a budget is only raised (cancel to stop spending)`,
          );
        }
      },
    },
  );

  // ---- money for takes after a scene's first: granted in order, held while paused or over budget ----
  setHandler(takeBudgetAskSignal, (ask) => void asks.push(ask));
  void CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => asks.length > 0);
      const ask = asks[0];
      const what = `scene ${ask.index} (take on ${ask.provider})`;
      const grantable = () => !!state.cancelled || (!state.paused && fits(ledger, ask.index, ask.commitUsd));
      if (!grantable() && !state.paused) waitForBudget(what, ask.commitUsd);
      await condition(grantable);
      asks.shift();
      budgetWaitOver(what);
      const answer: TakeBudgetAnswer = state.cancelled
        ? { granted: false, reason: `series cancelled: ${state.cancelled.reason}` }
        : { granted: true };
      if (answer.granted) ledger.held[ask.index] = ask.commitUsd;
      await tell(ask.sceneWorkflowId, takeBudgetAnswerSignal, answer);
    }
  });

  // ---- the provider's shared limit (provider-slots.ts), across every series and worker ----
  const grants = new Set<string>();
  const unshared = new Set<string>();
  const limiterOf = (provider: string) => providerSlotsWorkflowId(workflowInfo().taskQueue, provider);
  setHandler(slotGrantedSignal, ({ provider, key }) => void grants.add(`${provider}/${key}`));
  /** Waits for a slot on the provider; `unshared` when no limiter runs for it (the series window alone bounds it). */
  const acquireSlot = async (provider: string, key: string): Promise<'granted' | 'unshared' | 'cancelled'> => {
    if (unshared.has(provider) || !patched('shared-provider-slots')) return 'unshared';
    try {
      await getExternalWorkflowHandle(limiterOf(provider)).signal(slotAskSignal, { holder: selfId, key });
    } catch {
      unshared.add(provider);
      log.info('no shared limit runs for this provider: the series window alone bounds it', { provider });
      return 'unshared';
    }
    await condition(() => grants.has(`${provider}/${key}`) || !!state.cancelled);
    if (grants.has(`${provider}/${key}`)) return 'granted';
    await releaseSlot(provider, key);
    return 'cancelled';
  };
  const releaseSlot = async (provider: string, key: string) => {
    grants.delete(`${provider}/${key}`);
    await tell(limiterOf(provider), slotReleaseSignal, { holder: selfId, key });
  };

  // ---- scenes ----
  const peekWork = (): Work | undefined => {
    const retake = state.retries![0];
    if (retake) {
      const scene = series.scenes.find((s) => s.index === retake.index)!;
      return {
        scene: {
          ...scene,
          ...(retake.prompt ? { prompt: retake.prompt.trim() } : {}),
          ...(retake.provider ? { provider: retake.provider } : {}),
        },
        retake,
      };
    }
    const scene = series.scenes[state.next];
    return scene ? { scene } : undefined;
  };
  const takeWork = (work: Work) => {
    if (work.retake) state.retries!.shift();
    else state.next++;
  };

  const runScene = async ({ scene, retake }: Work, heldUsd: number): Promise<void> => {
    running.add(scene.index);
    ledger.held[scene.index] = heldUsd;
    const previous = retake ? resultOf(scene.index) : undefined;
    let result: SceneResult;
    let slot: 'granted' | 'unshared' | 'cancelled' = 'unshared';
    let chain: string[] = [];
    try {
      chain = route(scene);
      if (chain[0] && !(chain[0] in state.passport.refs)) {
        await characterOn(chain[0]);
        chain = route(scene); // the head may have just been found down
      }
      const prices = Object.fromEntries(chain.map((p) => [p, priceOn(p, scene)]));
      slot = chain[0] ? await acquireSlot(chain[0], sceneSlotKey(scene.index)) : 'unshared';
      if (slot === 'cancelled') {
        // Cancelled before it could start: nothing was submitted, nothing to record.
        delete ledger.held[scene.index];
        running.delete(scene.index);
        return;
      }
      // Scenes run outside the series' cancellation scope: a cancelled series lets running jobs finish.
      result = await executeChild(sceneWorkflow, {
        workflowId: sceneWorkflowId(selfId, scene.index),
        args: [
          {
            seriesWorkflowId: selfId,
            scene,
            chain,
            passport: state.passport,
            jobDeadlineSeconds: series.jobDeadlineSeconds,
            prices,
            grantedUsd: heldUsd,
            firstTake: (previous?.takes.length ?? 0) + 1,
          },
        ],
        typedSearchAttributes: [
          { key: SeriesId, value: selfId },
          { key: SceneIndex, value: scene.index },
        ],
        staticSummary: `${series.name} scene ${scene.index}${retake ? ' (retake)' : ''}: ${chain.join(' > ') || 'no provider'}`,
      });
    } catch (err) {
      // A child that fails must still report back, or the window would wait forever.
      result = { index: scene.index, status: 'failed', costUsd: 0, takes: [], reason: describeFailure(err).message };
    }
    if (slot === 'granted') await releaseSlot(chain[0], sceneSlotKey(scene.index));
    for (const provider of result.providersDown ?? [])
      openCircuit(provider, `scene ${scene.index}: ${lastReasonOn(result, provider)}`);
    const { providersDown: _down, ...settled } = result;
    if (previous) state.results[state.results.indexOf(previous)] = mergeRetake(previous, settled);
    else state.results.push(settled);
    delete ledger.held[scene.index];
    ledger.spentUsd = costUsd();
    running.delete(scene.index);
    upsertSearchAttributes([
      { key: ScenesDone, value: state.results.length },
      { key: SeriesCostUsd, value: costUsd() },
      { key: ProvidersUsed, value: providersUsed(state.results) },
    ]);
    publishStatus();
  };

  const window = () => {
    const work = peekWork();
    const head = work ? state.profiles.find((p) => p.name === route(work.scene)[0]) : undefined;
    return windowSize(head, series.maxParallel);
  };
  const headPrice = (work: Work) => priceOn(route(work.scene)[0], work.scene);

  if (!prepared) {
    state.profiles = selectProfiles(await upstream.listProviderProfiles(), input.providers);
    state.passport = await buildPassport(input.character, state.profiles);
    prepared = true;
  }

  let startedThisRun = 0;
  /** Set when Temporal itself cancelled the series: it ends Cancelled (after the graceful part). */
  let cancellation: unknown;
  try {
    for (;;) {
      publishStatus();
      await condition(() => !!state.cancelled || hasWork() || (running.size === 0 && !waitingForMore()));
      if (state.cancelled || !hasWork()) break;
      if (startedThisRun >= (series.scenesPerRun ?? SCENES_PER_RUN)) {
        await condition(() => running.size === 0);
        await condition(allHandlersFinished);
        return continueAsNew<typeof seriesWorkflow>(series, state);
      }
      await condition(() => !!state.cancelled || (running.size < window() && !state.paused));
      if (state.cancelled) break;
      const work = peekWork()!;
      if (!fits(ledger, work.scene.index, headPrice(work))) {
        const what = `scene ${work.scene.index}`;
        waitForBudget(what, headPrice(work));
        await condition(
          () =>
            !!state.cancelled ||
            fits(ledger, work.scene.index, headPrice(work)) ||
            peekWork()?.scene.index !== work.scene.index,
        );
        budgetWaitOver(what);
        continue; // re-check everything: cancelled, paused, window, or other work first
      }
      takeWork(work);
      void CancellationScope.nonCancellable(() => runScene(work, headPrice(work)));
      startedThisRun++;
    }
  } catch (err) {
    // Cancelled from Temporal (Web UI, CLI): the same graceful cancel as the message.
    if (!isCancellation(err)) throw err;
    cancellation = err;
    state.cancelled ??= { reason: 'workflow cancellation requested' };
    log.warn('series cancelled: no new submissions, running jobs finish', { reason: state.cancelled.reason });
  }

  return CancellationScope.nonCancellable(async () => {
    await condition(() => running.size === 0);
    const ordered = [...state.results].sort((a, b) => a.index - b.index);
    const rejected = ordered.some((s) => s.status === 'rejected');
    ended = state.cancelled
      ? 'cancelled'
      : ordered.some((s) => s.status === 'failed') || (rejected && series.onRejection === 'fail')
        ? 'failed'
        : rejected
          ? 'completed_with_rejections'
          : 'completed';
    const { sourceClip, ...character } = state.passport;
    const summary = {
      name: series.name,
      status: ended,
      costUsd: costUsd(),
      character: {
        ...character,
        ...(sourceClip ? { sourceClip: { url: sourceClip.url, sha256: sourceClip.sha256 } } : {}),
      },
      scenes: ordered,
      ...(state.cancelled ? { cancelled: state.cancelled } : {}),
    };
    const manifestPath = (written.manifestPath = await local.writeManifest(summary));
    upsertSearchAttributes([{ key: SeriesStatusKey, value: ended }]);
    await condition(allHandlersFinished);
    if (cancellation) throw cancellation; // shown as Cancelled in the Web UI; the manifest is written
    return { ...summary, manifestPath };
  });
}

/** Signals a scene or a limiter; one that ended meanwhile (cancelled, terminated) is waiting for nothing. */
async function tell<Arg>(workflowId: string, signal: SignalDefinition<[Arg]>, arg: Arg): Promise<void> {
  try {
    await getExternalWorkflowHandle(workflowId).signal(signal, arg);
  } catch (err) {
    log.warn('signal not delivered: its receiver has ended', {
      to: workflowId,
      signal: signal.name,
      error: describeFailure(err).message,
    });
  }
}

/** Keeps the providers the spec allows, in the spec's order; a name the worker lacks is a bad spec. */
function selectProfiles(available: ProviderProfile[], wanted: string[]): ProviderProfile[] {
  return wanted.map((name) => {
    const profile = available.find((p) => p.name === name);
    if (profile) return profile;
    // Fails the series (not the workflow task): no retry can make a missing provider appear.
    throw ApplicationFailure.create({
      type: 'UnknownProvider',
      nonRetryable: true,
      message: `providers: "${name}" is not configured on the worker (configured: ${available.map((p) => p.name).join(', ')}); fix the spec or the worker's provider config`,
    });
  });
}

async function ensureCharacterRef(
  state: SeriesState,
  provider: string,
  openCircuit: (provider: string, reason: string) => void,
): Promise<CharacterAnswer> {
  const { passport } = state;
  if (passport.refs[provider]) return { provider, ref: passport.refs[provider] };
  if (passport.refused[provider]) return { provider, refused: passport.refused[provider] };
  if (!passport.sourceClip) {
    passport.refused[provider] = 'no source clip to create the character from';
    return { provider, refused: passport.refused[provider] };
  }
  try {
    const created = await upstream.createCharacterRef({
      provider,
      name: passport.name,
      description: passport.description,
      clip: passport.sourceClip,
    });
    if ('ref' in created) passport.refs[provider] = created.ref;
    else passport.refused[provider] = created.refused;
    return { provider, ...created };
  } catch (err) {
    const reason = describeFailure(err).message;
    openCircuit(provider, `character creation: ${reason}`);
    return { provider, unavailable: reason };
  }
}

function lastReasonOn(result: SceneResult, provider: string): string {
  return [...result.takes].reverse().find((t) => t.provider === provider)?.reason ?? 'unavailable';
}

function providersUsed(results: SceneResult[]): string[] {
  return [...new Set(results.flatMap((r) => (r.provider ? [r.provider] : [])))].sort();
}
