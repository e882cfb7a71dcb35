/**
 * `sora-series` as a library (docs/library.md): connect, start from a spec, read, steer, wait,
 * list, cut the episode. The Temporal message definitions for services on the Temporal SDK are `sora-series/messages`.
 * Nothing here loads @temporalio/worker: a client process stays a client.
 */

export {
  connect,
  validate,
  SeriesClient,
  type ConnectOptions,
  type ListOptions,
  type SeriesClientOptions,
  type SeriesSpecDocument,
  type SpecSource,
  type StartedSeries,
  type StartOptions,
} from './series/library';
export type { ValidatedSpec } from './spec/validate';
export type { SeriesReport, WaitOptions } from './series/series-client';
export type { CutEpisode } from './series/episode';
export type { ProgressListener } from './series/progress';
export { SERIES_STATUSES, type ListFilter, type SeriesRow } from './series/list';
export type { CostEstimate } from './spec/estimate';
export type { TemporalSettings, TlsSettings } from '../common/temporal/settings';
export type {
  RoutingPolicy,
  SceneResult,
  SceneSpec,
  SeriesInput,
  SeriesResult,
  SeriesStatus,
  TakeRecord,
  EpisodeFiles,
  EpisodeRequest,
  EpisodeScene,
} from '../workflows/types';
export type { BudgetView, NewScene, RetryRequest, ReviewRequest, SeriesStatusView } from '../workflows/messages';

// Errors, by name: each message names the field and the fix.
export { SpecError } from './spec/parse-spec';
export { BudgetBelowEstimateError } from './spec/estimate';
export { UnknownProviderError } from '../workflows/provider-rules';
export { UnroutableScenesError } from './spec/validate';
export { SeriesAlreadyRunningError, SeriesNotFoundError } from './series/series-client';
export { MessageRefusedError } from './series/steering';
export { NothingToCutError } from '../workflows/episode-request';
export { EpisodeCutFailedError } from './series/episode';
export { ListFilterError } from './series/list';
export { ArgumentError } from './series/series-id';
export { SettingsError } from '../common/temporal/settings';
export { TemporalConnectError } from '../common/temporal/connection-options';
export { GatewayUrlError } from './gateway/review-link';

// The character library (docs/cli.md#the-character-library): one workflow per character, shared by every series.
export {
  defineCharacter,
  ensureCharacterHandle,
  listCharacters,
  loadCharacterDefinition,
  parseCharacterDefinition,
  retireCharacter,
  showCharacter,
  CharacterDefinitionError,
  CharacterNotFoundError,
  CharacterRefusedError,
} from './series/characters';
export type { CharacterDefinition, CharacterHandle, CharacterView } from '../workflows/messages';
