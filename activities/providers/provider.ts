import type {
  CharacterRef,
  ContractKind,
  ErrorKind,
  ProviderProfile,
  UncertainSubmission,
} from '../../workflows/types';

/** A local file known by its content. */
export interface LocalFile {
  path: string;
  sha256: string;
}

/**
 * One character of a take, as the adapter renders it its own way (mentions.ts): by its handle on
 * this provider, by its reference stills, or by its description when it can hold neither.
 */
export interface TakeCharacter {
  /** The literal text that places the character in `SubmitRequest.prompt` (`@mira`, `@character`). */
  token: string;
  name: string;
  description: string;
  /** This provider's handle, when it holds the character. */
  ref?: CharacterRef;
  /** Reference stills, frontal first, for providers that take images with the request. */
  stills: LocalFile[];
}

/** A take submitted to an upstream: the only step that spends money. */
export interface SubmitRequest {
  /**
   * The scene prompt. With `characters`, each appears as its `token` and the adapter puts in its
   * own mention; without (scenes scheduled by older workflow code), mentions are already in place.
   */
  prompt: string;
  seconds: number;
  size: string;
  model?: string;
  characters?: TakeCharacter[];
  /** Older scenes: the provider-specific id of their one character, its mention already in the prompt. */
  characterId?: string;
  /** Stable per (workflow, take): a retried attempt must not create a second job. */
  idempotencyKey: string;
}

export type JobState = 'queued' | 'running' | 'completed' | 'failed';

export interface JobStatus {
  jobId: string;
  state: JobState;
  /** 0-100. */
  progress: number;
  /** Set when `state` is `failed`. */
  error?: { kind: ErrorKind; code: string; message: string };
  /** What the upstream bills for the finished job, where its contract says (seedance: from its token count). */
  billed?: { usd: number; tokens?: number };
}

export type { UncertainSubmission } from '../../workflows/types';

/** What a submit returns: the job, and whether its take may have been paid twice. */
export interface SubmitResult {
  jobId: string;
  uncertain?: UncertainSubmission;
}

/** A provider's handle on a character: `CharacterRef` (its `hold` says how it holds it). */
export type CreatedCharacter = CharacterRef;

export interface CharacterClip {
  /** Public URL of the clip (relays fetch it themselves). */
  url: string;
  /** Local copy, for contracts that take an upload. */
  path: string;
}

/** What a free, authenticated call tells about the account (`providers check`); a refused key throws. */
export interface AccountCheck {
  /** Whether the account can pay for a take, where the contract tells (a balance, a quota). */
  canPay?: boolean;
  /** What the provider said about it (a balance, a plan), for people. */
  detail?: string;
}

/**
 * One upstream contract. Adapters translate contract shapes and status words into these
 * types and throw `ProviderError` (see errors.ts) so nothing upstream-specific leaks out.
 */
export interface VideoProvider {
  readonly name: string;
  readonly contract: ContractKind;
  readonly profile: ProviderProfile;
  /** Makes the provider's handle: a persistent entity (`hold: kept`) or uploaded references (`referenced`). */
  createCharacter(input: {
    name: string;
    description: string;
    clip: CharacterClip;
    stills: LocalFile[];
  }): Promise<CreatedCharacter>;
  /** Create a character from an earlier generation; not every contract can. */
  extractCharacter?(input: { name: string; taskId: string }): Promise<CreatedCharacter>;
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /**
   * Finds a job this take may already have created (an attempt that died after the upstream
   * accepted it), for upstreams that ignore idempotency keys. Contracts without a job list
   * (relay-v1) cannot reconcile and leave it out.
   */
  findJob?(request: SubmitRequest, notBefore: Date): Promise<string | SubmitResult | undefined>;
  getJob(jobId: string): Promise<JobStatus>;
  /**
   * Several jobs' status in one call, where the contract has a batch read (a job list, Kling's
   * `/tasks`); jobs it did not find are left out, and are then read one by one.
   */
  getJobs?(jobIds: string[]): Promise<JobStatus[]>;
  /** Streams the finished video's bytes. */
  download(jobId: string): Promise<AsyncIterable<Uint8Array>>;
  /** One call that costs nothing: the key is accepted (else a ProviderError), and what the account can pay. */
  checkAccount(): Promise<AccountCheck>;
}
