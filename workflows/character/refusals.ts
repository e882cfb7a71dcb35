import { ApplicationFailure } from '@temporalio/workflow';

/**
 * The `ApplicationFailure.type` of each way a character's workflow refuses a message. A refusal is
 * always an ApplicationFailure: a plain Error in an update handler fails the workflow task.
 */
export const CharacterRefusal = {
  /** An inline or repeated definition that differs from the stored one (the message names the fields). */
  definitionDiffers: 'CharacterDefinitionDiffers',
  /** Retire while a running series uses it. */
  inUse: 'CharacterInUse',
  retired: 'CharacterRetired',
  /** Its clip or images could not be stored (private host, not a video, gone...). */
  invalidSource: 'CharacterSourceInvalid',
  /** `ensureHandle` on a provider the worker does not have. */
  unknownProvider: 'UnknownProvider',
  /** `ensureHandle` while the provider cannot make it (down, throttled past the retries). */
  providerUnavailable: 'ProviderUnavailable',
} as const;
export type CharacterRefusalType = (typeof CharacterRefusal)[keyof typeof CharacterRefusal];

/** `details`: what a caller can act on without reading the words (CharacterInUse: `{running: [series ids]}`). */
export function refuseCharacter(type: CharacterRefusalType, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details: [details] } : {}) });
}
