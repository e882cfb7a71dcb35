import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CharacterDefinition, CharacterHandle, CharacterView, HandleAnswer } from './character/record';
import type { CharacterRef, RoutingPolicy, SceneResult, SeriesStatus } from './types';
import type { UncertainCount } from './uncertain-submissions';

/**
 * Every message a series or scene understands. Names and payloads are the public contract
 * (docs/messages.md): services in any language send them with their own
 * Temporal SDK or `temporal workflow signal|update|query`.
 */

// ---- steering a series (public) ----

/** A scene as a message adds it; unset fields take the series' defaults. */
export interface NewScene {
  prompt: string;
  seconds?: number;
  size?: string;
  model?: string;
  /** Pin the scene to one of the series' providers. */
  provider?: string;
}

export interface PauseRequest {
  reason?: string;
}
export interface CancelRequest {
  reason?: string;
}
export interface RetryRequest {
  index: number;
  /** A new prompt for the new take; the scene's prompt when unset. */
  prompt?: string;
  /** Pin the new take to this provider; routing decides when unset. */
  provider?: string;
}
export interface ReviewRequest {
  index: number;
  take: number;
  verdict: 'approve' | 'reject';
  note?: string;
}
export interface RoutingRequest {
  routing: RoutingPolicy;
}
export interface BudgetRequest {
  budgetUsd: number;
}

/** Stops starting scenes and takes; running jobs go on. `resume` undoes it. */
export const pauseSignal = defineSignal<[PauseRequest?]>('pause');
export const resumeSignal = defineSignal('resume');
/** Graceful: no new submissions; running jobs finish (neither contract can cancel a job) and are stored and paid; the series ends `cancelled`. */
export const cancelSignal = defineSignal<[CancelRequest?]>('cancel');
/** For signal-with-start: scenes that fail validation are refused (logged, listed in status) and the rest appended. */
export const appendScenesSignal = defineSignal<[NewScene[]]>('appendScenes');
/** A `streaming` series waits for scenes until this says no more will come. */
export const endOfScenesSignal = defineSignal('endOfScenes');

/** Validated; returns the indexes given to the new scenes. */
export const addScenesUpdate = defineUpdate<{ indexes: number[] }, [NewScene[]]>('addScenes');
/** A finished scene gets a new take (new prompt or provider optional); earlier takes are kept. */
export const retrySceneUpdate = defineUpdate<{ index: number; queued: true }, [RetryRequest]>('retryScene');
/** Approve or reject a completed take; with `approval: required` the series completes once every scene has an approved take. */
export const reviewTakeUpdate = defineUpdate<
  { index: number; take: number; verdict: ReviewRequest['verdict'] },
  [ReviewRequest]
>('reviewTake');
/** Routing policy for scenes not yet started. */
export const setRoutingUpdate = defineUpdate<{ routing: RoutingPolicy; previous: RoutingPolicy }, [RoutingRequest]>(
  'setRouting',
);
/** A higher budget; a series paused by its budget goes on when the next submission fits. */
export const raiseBudgetUpdate = defineUpdate<BudgetView, [BudgetRequest]>('raiseBudget');

// ---- the episode (public) ----

/**
 * A cut is a workflow of its own, not a message to the series: it works for finished series too.
 * Build its input from the series' status or result with episodeRequestOf, start `episodeWorkflow`
 * with it under episodeWorkflowIdOf(request) and EPISODE_ID_REUSE (so the same takes are cut once,
 * whoever asks: the series as it ends, the CLI, the gateway), and its result is the EpisodeFiles.
 */
export const EPISODE_WORKFLOW_TYPE = 'episodeWorkflow';
export { cutKey, EPISODE_ID_REUSE, episodeRequestOf, episodeWorkflowIdOf } from './episode-request';
export type { EpisodeFiles, EpisodeRequest, EpisodeScene } from './types';

// ---- reading ----

export interface BudgetView {
  /** The limit; absent when the series has none. */
  budgetUsd?: number;
  /** Settled: what finished scenes cost by each provider's billing rule. */
  spentUsd: number;
  /** Held for scenes in flight: what they spent so far plus their current take's price. */
  reservedUsd: number;
  /** budgetUsd - spent - reserved - uncertain; absent without a budget. */
  remainingUsd?: number;
  /** Possibly paid by finished scenes' uncertain submissions (uncertainSubmissions), counted against the budget. */
  uncertainUsd?: number;
}

export interface Pause {
  by: 'user' | 'budget';
  reason: string;
  since: number;
}

export interface SeriesStatusView {
  name: string;
  status: SeriesStatus;
  /** Why the series does not start scenes now; absent while it runs freely. */
  paused?: Pause;
  cancelled?: { reason: string };
  routing: RoutingPolicy;
  budget: BudgetView;
  scenesTotal: number;
  scenesDone: number;
  running: number[];
  /** Scenes waiting to start (not yet started, or queued for a retake). */
  queued: number[];
  /** Scenes whose latest completed take awaits a review (approval: required). */
  awaitingReview: number[];
  costUsd: number;
  providerHealth: Record<string, 'up' | 'down'>;
  /** Open circuits: providers found unavailable, since when (ms) and why. */
  circuits: Record<string, { since: number; reason: string }>;
  character: { name: string; providers: string[]; refused: Record<string, string> };
  /** Library characters (`characters:`): the providers each one has a handle on so far, and where it is refused. */
  cast?: Array<{ name: string; providers: string[]; refused: Record<string, string> }>;
  scenes: SceneResult[];
  /** Scenes an appendScenes signal carried that failed validation, with why. */
  refusedScenes: Array<{ prompt: string; problem: string }>;
  manifestPath?: string;
  /**
   * Submits the upstream may have billed without a job to show for it (or twice): contracts without
   * an idempotency key that lost an answer. `usd` is what they may have cost beyond `costUsd`; a
   * scene in flight reports its own when it asks for its next take.
   */
  uncertainSubmissions: UncertainCount;
}

export interface SceneStatusView {
  index: number;
  /** The scene's id from the spec, when it has one. */
  id?: string;
  provider?: string;
  take: number;
  jobId?: string;
  phase: 'routing' | 'waiting_for_character' | 'waiting_for_budget' | 'submitting' | 'generating' | 'storing' | 'done';
  /** This scene's uncertain submissions so far, once it has one. */
  uncertain?: UncertainCount;
}

export const seriesStatusQuery = defineQuery<SeriesStatusView>('status');
export const sceneStatusQuery = defineQuery<SceneStatusView>('sceneStatus');

// ---- from the webhook gateway to a scene ----

/**
 * An upstream said a job ended; the scene stops polling and reads the job once. `hint`: an
 * unsigned callback, which only makes the scene read the job now.
 */
export interface JobFinished {
  provider: string;
  jobId: string;
  event: 'completed' | 'failed' | 'hint';
}
export const jobFinishedSignal = defineSignal<[JobFinished]>('jobFinished');

// ---- between a series and its scenes (internal) ----

/** A scene asks its series for the character on a provider it falls back to. */
export interface CharacterNeeded {
  provider: string;
  sceneWorkflowId: string;
  /** A library character of the series' cast; unset: the one-character form's character. */
  character?: string;
}

/** The series' answer: the provider's reference, or why the character cannot be there. */
export type CharacterAnswer = { character?: string } & (
  | { provider: string; ref: CharacterRef }
  | { provider: string; refused: string }
  | { provider: string; unavailable: string }
);

export const characterNeededSignal = defineSignal<[CharacterNeeded]>('characterNeeded');
export const characterReadySignal = defineSignal<[CharacterAnswer]>('characterReady');

/** A scene's take was refused because the provider revoked a library character's handle; the answer is `characterReady`. */
export interface CharacterRevoked {
  provider: string;
  character: string;
  handleId: string;
  reason: string;
  sceneWorkflowId: string;
}
export const characterRevokedSignal = defineSignal<[CharacterRevoked]>('characterRevoked');

/** A scene asks before every take after its first (reserved when the series started it). */
export interface TakeBudgetAsk {
  sceneWorkflowId: string;
  index: number;
  provider: string;
  /** What the scene has spent so far (uncertain submissions counted as paid) plus this take's price. */
  commitUsd: number;
  /** The scene's uncertain submissions so far, so the series' status counts them while it runs. */
  uncertain?: UncertainCount;
}
export type TakeBudgetAnswer = { granted: true } | { granted: false; reason: string };

export const takeBudgetAskSignal = defineSignal<[TakeBudgetAsk]>('takeBudgetAsk');
export const takeBudgetAnswerSignal = defineSignal<[TakeBudgetAnswer]>('takeBudgetAnswer');

// ---- the character library (public): one workflow per character, character/<name> ----

export type { CharacterDefinition, CharacterHandle, CharacterView, HandleAnswer } from './character/record';
export { CharacterRefusal } from './character/refusals';

/** The workflow type of a library character (started by update-with-start of `defineCharacter`). */
export const CHARACTER_WORKFLOW_TYPE = 'characterWorkflow';

/**
 * Stores the definition (the first one starts the workflow) or checks it against the stored one:
 * a difference is refused (CharacterDefinitionDiffers) naming the fields. Answers once the source
 * is stored; a source that cannot be stored is refused (CharacterSourceInvalid).
 */
export const defineCharacterUpdate = defineUpdate<CharacterView, [CharacterDefinition]>('defineCharacter');
/** Makes the provider's handle now (`characters create --on`); answers the handle. Made once per provider. */
export const ensureHandleUpdate = defineUpdate<CharacterHandle, [{ provider: string }]>('ensureHandle');
/** Ends the character; refused (CharacterInUse) while a running series uses it. */
export const retireCharacterUpdate = defineUpdate<CharacterView, []>('retireCharacter');
export const characterQuery = defineQuery<CharacterView>('character');

/** A series asks for the handle on `provider`; the answer comes as `handleAnswer` to `replyTo`. */
export interface HandleNeeded {
  provider: string;
  replyTo: string;
}
/** A provider said the handle `handleId` is revoked: made again once, answered as `handleAnswer`. */
export interface HandleRevoked extends HandleNeeded {
  handleId: string;
  reason: string;
}
export const handleNeededSignal = defineSignal<[HandleNeeded]>('handleNeeded');
export const handleRevokedSignal = defineSignal<[HandleRevoked]>('handleRevoked');
export const handleAnswerSignal = defineSignal<[HandleAnswer]>('handleAnswer');
/** A series says it uses the character (at its start) and that it ended (retirement waits for that). */
export const seriesJoinedSignal = defineSignal<[{ seriesId: string }]>('seriesJoined');
export const seriesLeftSignal = defineSignal<[{ seriesId: string }]>('seriesLeft');
