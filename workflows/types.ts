import type { CharacterDefinition } from './character/record';

/**
 * The domain shared by workflows, activities and the client. Plain data only: everything here
 * crosses Temporal payloads and continue-as-new, so no Maps, classes or functions.
 */

/** Upstream contracts the project speaks. */
export type ContractKind = 'official' | 'relay-v1' | 'fal' | 'seedance' | 'kling';

/** How a scene picks its provider chain (routing.ts orders the chain for each policy). */
export type RoutingPolicy = 'character' | 'cost' | 'stability';

/** The classes every upstream error is sorted into, once, in `activities/providers`. */
export type ErrorKind = 'transient' | 'rate_limited' | 'unavailable' | 'rejected' | 'invalid';

/**
 * `kept`: the provider holds the character (a persistent handle). `referenced`: reference images
 * went with the request. `degraded`: only its description.
 */
export type Continuity = 'kept' | 'referenced' | 'degraded';

/** What a provider can do, as routing needs to know it (no secrets, no URLs). */
export interface ProviderProfile {
  name: string;
  contract: ContractKind;
  /** Durations (seconds) the provider accepts. */
  seconds: number[];
  sizes: string[];
  maxConcurrency: number;
  /** Whether the provider refuses character clips that show a real human likeness. */
  refusesHumanLikeness: boolean;
  /** Price of one video of the given length and size in USD, pre-computed per option. */
  pricing: PriceRule;
  /** Characters one take can hold; unset: the contract default (workflows/cast-rules.ts). */
  maxCharacters?: number;
  /** What making a character handle costs; unset: the contract default (cast-rules.ts). */
  characterUsd?: number;
  /** How long a job usually takes, in seconds: when its status is first checked (activities/check-plan.ts). */
  expectedJobSeconds?: number;
  /** Its webhooks reach the gateway: status checks are only the safety net. */
  webhooks?: boolean;
}

export type PriceRule =
  { per: 'video'; usd: number } | { per: 'second'; usdBySize: Record<string, number>; defaultUsd: number };

/** How the series gets its character. */
export type CharacterSource =
  /** Existing provider ids; `clipUrl` lets fallback providers recreate the character. */
  | { kind: 'adopt'; ids: Record<string, string>; clipUrl?: string }
  | { kind: 'clip'; url: string }
  | { kind: 'extract'; provider: string; taskId: string };

export interface CharacterSpec {
  name: string;
  description: string;
  source: CharacterSource;
}

/** One provider's handle on the character; ids are not portable between providers. */
export interface CharacterRef {
  id: string;
  /** How prompts reference it on this provider (`@char_x` on a relay, the name on official). */
  mention: string;
  /** Absent means `kept` (handles made before reference-image providers existed). */
  hold?: 'kept' | 'referenced';
  /** Provider-hosted copies of the reference stills (e.g. fal storage URLs), when the handle is those. */
  references?: string[];
}

/** Everything needed to recreate the character on any provider. */
export interface CharacterPassport {
  name: string;
  description: string;
  sourceClip?: { url: string; sha256: string; path: string };
  /** provider name -> reference; created lazily per provider. */
  refs: Record<string, CharacterRef>;
  /** provider name -> why it cannot hold the character (e.g. human likeness refused). */
  refused: Record<string, string>;
  /** Reference stills, frontal first (library characters; the worker makes them from the clip otherwise). */
  stills?: StoredMedia[];
}

/** A library character a series uses (`characters:`): its workflow is character/<name>. */
export interface CastMember {
  name: string;
  /** For the description-only fallback; the library's answer brings it too. */
  description: string;
  /** An inline definition of the spec, stored in the library before the series starts. */
  definition?: CharacterDefinition;
}

export interface SceneSpec {
  index: number;
  /** The spec's optional stable scene id (`scenes[].id`), reported with the scene's result. */
  id?: string;
  /** Scene prompt; `@character` marks where the character is named. */
  prompt: string;
  seconds: number;
  size: string;
  model?: string;
  /** Pin the scene to one provider, skipping routing. */
  provider?: string;
}

export interface SeriesInput {
  name: string;
  /** The one-character form (`character:` + `@character`); unset when the series has a `cast`. */
  character?: CharacterSpec;
  /** Library characters (`characters:`), each mentioned as `@<name>`; unset in the one-character form. */
  cast?: CastMember[];
  scenes: SceneSpec[];
  routing: RoutingPolicy;
  /** Providers the series may use; routing orders them. */
  providers: string[];
  /** Scenes in flight at once; further bounded by provider concurrency. */
  maxParallel?: number;
  budgetUsd?: number;
  /** Scenes started per run before continuing as new (keeps each run's history small). */
  scenesPerRun?: number;
  /** A job not finished by then is given up (still paid for) and becomes a new take. */
  jobDeadlineSeconds?: number;
  /** How long a provider found unavailable is left alone before one scene may try it again. */
  circuitCooldownSeconds?: number;
  /** `fail`: any rejected scene fails the series (after every scene ran); default `allow`. */
  onRejection?: 'allow' | 'fail';
  /** What scenes added by message get when they leave a field out (the spec's `defaults`). */
  defaults?: { seconds: number; size: string; model?: string };
  /** Scenes keep coming (addScenes / appendScenes) until `endOfScenes`; the series waits for them. */
  streaming?: boolean;
  /** `required`: the series completes only when every completed scene has an approved take. */
  approval?: 'none' | 'required';
}

export type TakeOutcome = 'completed' | 'rejected' | 'unavailable' | 'failed';

/**
 * A submit the upstream may have billed twice, or billed without our knowing the job: contracts
 * without an idempotency key (seedance, fal) report how their take was reconciled so it is counted.
 */
export interface UncertainSubmission {
  /** `answer_lost`: the create's answer never came; `heuristic_match`: the job was found by its parameters only. */
  code: 'answer_lost' | 'heuristic_match';
  message: string;
}

/** An uncertain submission on its take: `usd` (the take's price) counts as possibly paid, against the budget too. */
export type UncertainTake = UncertainSubmission & { usd: number };

export interface TakeRecord {
  take: number;
  provider: string;
  jobId?: string;
  outcome: TakeOutcome;
  costUsd: number;
  reason?: string;
  /** Where a completed take's video is stored (kept when a later take replaces it). */
  assetPath?: string;
  sha256?: string;
  review?: TakeReview;
  /** The upstream may have billed this submission (again) beyond `costUsd`: never hidden. */
  uncertain?: UncertainTake;
}

export interface TakeReview {
  verdict: 'approve' | 'reject';
  note?: string;
}

export type SceneStatus = 'completed' | 'rejected' | 'failed' | 'cancelled';

export interface SceneResult {
  index: number;
  /** The scene's id from the spec, when it has one. */
  id?: string;
  status: SceneStatus;
  provider?: string;
  continuity?: Continuity;
  /** Library characters: how the take held each one (`continuity` is then the weakest of them). */
  continuityByCharacter?: Record<string, Continuity>;
  assetPath?: string;
  sha256?: string;
  costUsd: number;
  takes: TakeRecord[];
  reason?: string;
  /** Providers found unavailable while making this scene; the series stops routing to them. */
  providersDown?: string[];
}

/** `paused`: by a person or the budget; `awaiting_approval`: every scene ran, reviews pending. */
export type SeriesStatus =
  'running' | 'paused' | 'awaiting_approval' | 'completed' | 'completed_with_rejections' | 'cancelled' | 'failed';

export interface SeriesResult extends Partial<EpisodeFiles> {
  name: string;
  status: SeriesStatus;
  costUsd: number;
  manifestPath: string;
  character: Omit<CharacterPassport, 'sourceClip'> & { sourceClip?: { url: string; sha256: string } };
  /** Library characters: each one's handles as the series used them, and what making them cost this series. */
  cast?: Array<
    Omit<CharacterPassport, 'sourceClip' | 'stills'> & { sourceClip?: { url: string; sha256: string }; costUsd: number }
  >;
  scenes: SceneResult[];
  /** Why the episode could not be cut at the end (the scenes are delivered all the same). */
  episodeError?: string;
}

/** A scene as an episode takes it: its chosen take (the approved one, else the latest completed). */
export interface EpisodeScene {
  index: number;
  take: number;
  provider: string;
  assetPath: string;
  sha256: string;
}

/** What a cut is made from: the chosen take of every completed scene of a series, in scene order. */
export interface EpisodeRequest {
  seriesId: string;
  scenes: EpisodeScene[];
}

/** A file in content-addressed storage (`<sha256><ext>`). */
export interface StoredMedia {
  path: string;
  sha256: string;
}

/** What a cut makes; the same request always makes the same files. */
export interface EpisodeFiles {
  episode: StoredMedia & {
    bytes: number;
    /** The joined video's duration, from ffprobe. */
    seconds: number;
    width: number;
    height: number;
    /** `concat`: the scenes' streams as they are; `reencode`: normalised to the first scene's size and frame rate. */
    joined: 'concat' | 'reencode';
    /** Where each scene sits in the episode. */
    scenes: Array<Omit<EpisodeScene, 'assetPath'> & { startSeconds: number; seconds: number }>;
  };
  /** One labelled frame per scene (scene, provider, take), as PNG. */
  contactSheet: StoredMedia & { width: number; height: number };
  /** A frame from the middle of each scene, as PNG at the scene's own size. */
  posters: Array<StoredMedia & { index: number }>;
}
