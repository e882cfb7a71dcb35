import type { Ledger } from '../budget';
import type { Pause, RetryRequest, ReviewRequest } from '../messages';
import { roundUsd } from '../pricing';
import type { OpenCircuit } from '../routing';
import { awaitsReview, mergeRetake, withChosenTake } from '../scene-results';
import { SCENE_DEFAULTS, type SceneContext } from '../scene-rules';
import type {
  CharacterPassport,
  ProviderProfile,
  RoutingPolicy,
  SceneResult,
  SceneSpec,
  SeriesInput,
  SeriesStatus,
} from '../types';
import { UncertainSubmissions } from './uncertain';

/** What a run hands to the next one on continue-as-new: plain objects and arrays only. */
export interface SeriesState {
  profiles: ProviderProfile[];
  passport: CharacterPassport;
  /** Providers found unavailable (the circuit per provider). */
  circuits: Record<string, OpenCircuit>;
  results: SceneResult[];
  next: number;
  // Optional: a state carried from a run of a release without steering has none of these.
  retries?: RetryRequest[];
  paused?: Pause;
  cancelled?: { reason: string };
  endOfScenes?: boolean;
  refusedScenes?: Array<{ prompt: string; problem: string }>;
  /** Library characters (`characters:`) by name: their handles as the series has them so far. */
  cast?: Record<string, CharacterPassport>;
  /** What making handles for this series cost (`<character>/<provider>` -> USD): paid once, by the series whose need made it. */
  castCostsUsd?: Record<string, number>;
}

/** A scene about to start: a new one, or a retake of a finished one. */
export interface Work {
  scene: SceneSpec;
  retake?: RetryRequest;
}

/**
 * The series' state and the rules that keep it whole, in one object (the manager of Temporal's
 * safe-message-handlers sample): message handlers, the scheduling loop and the scene runner change
 * it only through these methods.
 */
export class SeriesRun {
  /** A mutable copy of the input: messages add scenes, change routing, raise the budget; carried on continue-as-new. */
  readonly series: SeriesInput;
  readonly state: SeriesState;
  /** False until the profiles and the character are ready; scene checks that need them wait. */
  prepared: boolean;
  readonly running = new Set<number>();
  readonly ledger: Ledger;
  /** Set when the scheduling loop stops: nothing can start any more, so no new work is accepted. */
  finishing = false;
  ended?: SeriesStatus;
  manifestPath?: string;
  readonly uncertain: UncertainSubmissions;

  constructor(input: SeriesInput, carried?: SeriesState) {
    this.series = { ...input, scenes: [...input.scenes] };
    this.state = carried ?? {
      profiles: [],
      passport: {
        name: input.character?.name ?? '',
        description: input.character?.description ?? '',
        refs: {},
        refused: {},
      },
      circuits: {},
      results: [],
      next: 0,
    };
    this.prepared = !!carried;
    this.state.retries ??= [];
    this.state.refusedScenes ??= [];
    this.ledger = { budgetUsd: this.series.budgetUsd, spentUsd: this.costUsd(), held: {} };
    this.uncertain = new UncertainSubmissions(this);
    if (carried) this.uncertain.carried();
  }

  get retries(): RetryRequest[] {
    return this.state.retries!;
  }

  costUsd(): number {
    const handles = Object.values(this.state.castCostsUsd ?? {}).reduce((sum, usd) => sum + usd, 0);
    return roundUsd(this.state.results.reduce((sum, r) => sum + r.costUsd, handles));
  }

  resultOf(index: number): SceneResult | undefined {
    return this.state.results.find((r) => r.index === index);
  }

  sceneOf(index: number): SceneSpec | undefined {
    return this.series.scenes.find((s) => s.index === index);
  }

  /** What scene checks run against; capabilities only once the profiles are known. */
  sceneContext(): SceneContext {
    return {
      providers: this.series.providers,
      profiles: this.prepared ? this.state.profiles : undefined,
      defaults: this.series.defaults ?? SCENE_DEFAULTS,
      ...(this.series.cast ? { cast: this.series.cast.map((c) => c.name) } : {}),
    };
  }

  needsReview(): number[] {
    return this.series.approval === 'required' ? this.state.results.filter(awaitsReview).map((r) => r.index) : [];
  }

  hasWork(): boolean {
    return this.retries.length > 0 || this.state.next < this.series.scenes.length;
  }

  waitingForMore(): boolean {
    return (this.series.streaming && !this.state.endOfScenes) || this.needsReview().length > 0;
  }

  /** Running, queued for a retake, or never run: a scene that cannot take a retry now. */
  unfinished(index: number): boolean {
    return this.running.has(index) || !this.resultOf(index) || this.retries.some((r) => r.index === index);
  }

  /** Retakes first, then the next new scene. */
  peekWork(): Work | undefined {
    const retake = this.retries[0];
    if (retake) {
      const scene = this.sceneOf(retake.index)!;
      return {
        scene: {
          ...scene,
          ...(retake.prompt ? { prompt: retake.prompt.trim() } : {}),
          ...(retake.provider ? { provider: retake.provider } : {}),
        },
        retake,
      };
    }
    const scene = this.series.scenes[this.state.next];
    return scene ? { scene } : undefined;
  }

  takeWork(work: Work): void {
    if (work.retake) this.retries.shift();
    else this.state.next++;
  }

  pause(reason: string): Pause {
    return (this.state.paused = { by: 'user', reason, since: Date.now() });
  }

  /** Whether a person's pause was lifted. */
  resume(): boolean {
    const was = !!this.state.paused;
    this.state.paused = undefined;
    return was;
  }

  /** The first cancel's reason stands. */
  cancel(reason: string): { reason: string } {
    return (this.state.cancelled ??= { reason });
  }

  endScenes(): void {
    this.state.endOfScenes = true;
  }

  /** For scenes not started yet; the policy before. */
  setRouting(routing: RoutingPolicy): RoutingPolicy {
    const previous = this.series.routing;
    this.series.routing = routing;
    return previous;
  }

  /** A checked, higher budget: the next submission that fits it goes. */
  raiseBudget(usd: number): void {
    this.series.budgetUsd = this.ledger.budgetUsd = usd;
  }

  appendScenes(scenes: SceneSpec[]): number[] {
    this.series.scenes.push(...scenes);
    return scenes.map((s) => s.index);
  }

  refuseAppended(scene: unknown, problem: string): void {
    this.state.refusedScenes!.push({
      prompt: String((scene as { prompt?: unknown })?.prompt ?? '').slice(0, 200),
      problem,
    });
  }

  queueRetry(request: RetryRequest): void {
    this.retries.push(request);
  }

  /** Records a checked review on its take; the scene then delivers its chosen take. */
  review({ index, take, verdict, note }: ReviewRequest): void {
    const scene = this.resultOf(index)!;
    const reviewed = {
      ...scene,
      takes: scene.takes.map((t) => (t.take === take ? { ...t, review: { verdict, ...(note ? { note } : {}) } } : t)),
    };
    this.state.results[this.state.results.indexOf(scene)] = withChosenTake(reviewed);
  }

  /** A scene starts: it holds its first take's price until it settles. */
  start(index: number, heldUsd: number): void {
    this.running.add(index);
    this.hold(index, heldUsd);
  }

  /** What a scene in flight holds: what it spent so far plus its current take's price. */
  hold(index: number, usd: number): void {
    this.ledger.held[index] = usd;
  }

  /** A scene that never started (cancelled while it waited for a slot): nothing to record. */
  withdraw(index: number): void {
    delete this.ledger.held[index];
    this.running.delete(index);
  }

  /** A new scene's result. */
  record(result: SceneResult): void {
    this.state.results.push(result);
  }

  /** A retake's result, merged into the scene's record (`into`: the record now). */
  mergeRetake(into: SceneResult, result: SceneResult): void {
    this.state.results[this.state.results.indexOf(into)] = mergeRetake(into, result);
  }

  /** A scene has settled: its hold becomes spend. */
  finished(index: number): void {
    delete this.ledger.held[index];
    this.ledger.spentUsd = this.costUsd();
    this.uncertain.settled(index);
    this.running.delete(index);
  }
}
