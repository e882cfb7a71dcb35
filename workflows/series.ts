import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { local, upstream } from './activities';
import { buildPassport } from './passport';
import { describeFailure } from './failure-info';
import { characterNeededSignal, characterReadySignal, seriesStatusQuery, type CharacterAnswer } from './messages';
import { roundUsd } from './pricing';
import { healthAt, routeScene, windowSize, type OpenCircuit } from './routing';
import { sceneWorkflow } from './scene';
import { ProvidersUsed, ScenesDone, SeriesCostUsd, SeriesStatusKey } from './search-attributes';
import type { CharacterPassport, ProviderProfile, SceneResult, SceneSpec, SeriesInput, SeriesResult, SeriesStatus } from './types';

/** What a run hands to the next one on continue-as-new: plain objects and arrays only. */
export interface SeriesState {
  profiles: ProviderProfile[];
  passport: CharacterPassport;
  /** Providers found unavailable (the circuit per provider). */
  circuits: Record<string, OpenCircuit>;
  results: SceneResult[];
  next: number;
}

/** Started children per run before continuing as new: about 12 events each keeps a run far under 10,000. */
const SCENES_PER_RUN = 200;
const DEFAULT_CIRCUIT_COOLDOWN_SECONDS = 600;

/**
 * A series: ensure the character, run every scene as a child in a sliding window bounded by
 * provider concurrency, route around providers found down, and end with a manifest.
 */
export async function seriesWorkflow(input: SeriesInput, carried?: SeriesState): Promise<SeriesResult> {
  const selfId = workflowInfo().workflowId;
  let status: SeriesStatus = 'running';
  const written: { manifestPath?: string } = {};
  const running = new Set<number>();
  const pendingRefs: Record<string, Promise<CharacterAnswer>> = {};

  const profiles = carried?.profiles ?? selectProfiles(await upstream.listProviderProfiles(), input.providers);
  const state: SeriesState = carried ?? {
    profiles,
    passport: await buildPassport(input.character, profiles),
    circuits: {},
    results: [],
    next: 0,
  };
  const costUsd = () => roundUsd(state.results.reduce((sum, r) => sum + r.costUsd, 0));
  const openCircuit = (provider: string, reason: string) => {
    const reopened = provider in state.circuits;
    state.circuits[provider] = { since: Date.now(), reason };
    log.warn(reopened ? 'provider still unavailable: circuit reopened' : 'provider unavailable: circuit opened', { provider, reason });
  };

  setHandler(seriesStatusQuery, () => ({
    name: input.name,
    status,
    scenesTotal: input.scenes.length,
    scenesDone: state.results.length,
    running: [...running],
    costUsd: costUsd(),
    providerHealth: health(),
    circuits: state.circuits,
    character: { name: state.passport.name, providers: Object.keys(state.passport.refs), refused: state.passport.refused },
    scenes: state.results,
    manifestPath: written.manifestPath,
  }));

  /** Creates the character on a provider once, however many scenes ask at once. */
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
    try {
      await getExternalWorkflowHandle(sceneWorkflowId).signal(characterReadySignal, answer);
    } catch (err) {
      // The scene ended meanwhile (cancelled or terminated): nobody is waiting for the answer.
      log.warn('character answer not delivered', { sceneWorkflowId, provider, error: describeFailure(err).message });
    }
  });

  // Before the cooldown existed a down provider stayed down for the series; keep that on replay.
  const cooldownMs = patched('circuit-cooldown') ? (input.circuitCooldownSeconds ?? DEFAULT_CIRCUIT_COOLDOWN_SECONDS) * 1000 : Infinity;
  const health = () => healthAt(state.circuits, Date.now(), cooldownMs);
  const route = (scene: SceneSpec) =>
    routeScene({ policy: input.routing, scene, profiles: state.profiles, health: health(), passport: state.passport });

  const runScene = async (scene: SceneSpec): Promise<void> => {
    running.add(scene.index);
    let result: SceneResult;
    try {
      let chain = route(scene);
      if (chain[0] && !(chain[0] in state.passport.refs)) {
        await characterOn(chain[0]);
        chain = route(scene); // the head may have just been found down
      }
      result = await executeChild(sceneWorkflow, {
        workflowId: `${selfId}/scene-${scene.index}`,
        args: [{ seriesWorkflowId: selfId, scene, chain, passport: state.passport, jobDeadlineSeconds: input.jobDeadlineSeconds }],
      });
    } catch (err) {
      // A child that fails must still report back, or the window would wait forever.
      result = { index: scene.index, status: 'failed', costUsd: 0, takes: [], reason: describeFailure(err).message };
    }
    for (const provider of result.providersDown ?? []) openCircuit(provider, `scene ${scene.index}: ${lastReasonOn(result, provider)}`);
    state.results.push(result);
    running.delete(scene.index);
    upsertSearchAttributes([
      { key: ScenesDone, value: state.results.length },
      { key: SeriesCostUsd, value: costUsd() },
      { key: ProvidersUsed, value: providersUsed(state.results) },
    ]);
  };

  const window = () => {
    const next = input.scenes[state.next];
    const head = next ? state.profiles.find((p) => p.name === route(next)[0]) : undefined;
    return windowSize(head, input.maxParallel);
  };

  let startedThisRun = 0;
  while (state.next < input.scenes.length && startedThisRun < (input.scenesPerRun ?? SCENES_PER_RUN)) {
    await condition(() => running.size < window());
    void runScene(input.scenes[state.next++]);
    startedThisRun++;
  }
  await condition(() => running.size === 0);

  if (state.next < input.scenes.length) {
    await condition(allHandlersFinished);
    return continueAsNew<typeof seriesWorkflow>(input, state);
  }

  const ordered = [...state.results].sort((a, b) => a.index - b.index);
  const rejected = ordered.some((s) => s.status === 'rejected');
  status = ordered.some((s) => s.status === 'failed') || (rejected && input.onRejection === 'fail')
    ? 'failed'
    : rejected
      ? 'completed_with_rejections'
      : 'completed';
  const { sourceClip, ...character } = state.passport;
  const summary = {
    name: input.name,
    status,
    costUsd: costUsd(),
    character: { ...character, ...(sourceClip ? { sourceClip: { url: sourceClip.url, sha256: sourceClip.sha256 } } : {}) },
    scenes: ordered.map(({ providersDown: _down, ...scene }) => scene),
  };
  const manifestPath = (written.manifestPath = await local.writeManifest(summary));
  upsertSearchAttributes([{ key: SeriesStatusKey, value: status }]);
  await condition(allHandlersFinished);
  return { ...summary, manifestPath };
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

