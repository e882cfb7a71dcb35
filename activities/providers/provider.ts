import type { ContractKind, ErrorKind, ProviderProfile } from '../../workflows/types';

/** A take submitted to an upstream: the only step that spends money. */
export interface SubmitRequest {
  /** Final prompt, character mention already in place. */
  prompt: string;
  seconds: number;
  size: string;
  model?: string;
  /** Provider-specific character id, when the provider holds the character. */
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
}

export interface CreatedCharacter {
  id: string;
  /** How prompts name the character on this provider. */
  mention: string;
}

export interface CharacterClip {
  /** Public URL of the clip (relays fetch it themselves). */
  url: string;
  /** Local copy, for contracts that take an upload. */
  path: string;
}

/**
 * One upstream contract. Adapters translate contract shapes and status words into these
 * types and throw `ProviderError` (see errors.ts) so nothing upstream-specific leaks out.
 */
export interface VideoProvider {
  readonly name: string;
  readonly contract: ContractKind;
  readonly profile: ProviderProfile;
  createCharacter(input: { name: string; description: string; clip: CharacterClip }): Promise<CreatedCharacter>;
  /** Create a character from an earlier generation; not every contract can. */
  extractCharacter?(input: { name: string; taskId: string }): Promise<CreatedCharacter>;
  submit(request: SubmitRequest): Promise<{ jobId: string }>;
  /**
   * Finds a job this take may already have created (an attempt that died after the upstream
   * accepted it), for upstreams that ignore idempotency keys. Contracts without a job list
   * (relay-v1) cannot reconcile and leave it out.
   */
  findJob?(request: SubmitRequest, notBefore: Date): Promise<string | undefined>;
  getJob(jobId: string): Promise<JobStatus>;
  /** Streams the finished video's bytes. */
  download(jobId: string): Promise<AsyncIterable<Uint8Array>>;
}
