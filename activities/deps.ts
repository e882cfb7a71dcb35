import { join } from 'node:path';
import type { Logger } from 'pino';
import type { VideoProvider } from './providers/provider';
import { Context } from '@temporalio/activity';
import type { UrlPolicy } from '../common/url-policy';
import type { HostLookup } from './url-guard';
import { currentLogFields } from './log-context';
import { unknownProviderProblem, UnknownProviderError } from '../workflows/provider-rules';

/** What activities need from the worker: built once per worker process, never from workflow input. */
export interface ActivityDeps {
  providers: Map<string, VideoProvider>;
  /** Root of stored assets, clips and manifests. */
  dataDir: string;
  /** The shortest wait between two status checks of a job (collectJob's plan); how often older scenes' `awaitJob` polls. */
  pollIntervalMs: number;
  /** Largest source clip accepted, in bytes. */
  maxClipBytes: number;
  logger: Logger;
  /** Which private hosts the worker may fetch spec URLs from (`SORA_SERIES_ALLOW_PRIVATE_URLS`); default none. */
  urlPolicy?: UrlPolicy;
  /** DNS for spec URLs; node:dns unless a test resolves names its own way. */
  lookupHost?: HostLookup;
}

/** Where takes' videos are stored (content-addressed): the episode cut reads them from there only. */
export const assetsDirOf = (deps: Pick<ActivityDeps, 'dataDir'>): string => join(deps.dataDir, 'assets');
/** Reference stills taken from character clips (stills.ts). */
export const stillsDirOf = (deps: Pick<ActivityDeps, 'dataDir'>): string => join(deps.dataDir, 'stills');

/** The worker's provider called `name`; a worker without it says so as the spec would. */
export function providerOf(deps: ActivityDeps, name: string): VideoProvider {
  const provider = deps.providers.get(name);
  if (provider) return provider;
  throw new UnknownProviderError([`provider: ${unknownProviderProblem(name, [...deps.providers.keys()])}`]);
}

/**
 * A logger bound to the workflow, activity and attempt it serves, and to its series, scene, take,
 * provider and job (see log-context), so every line is traceable.
 */
export function activityLogger(deps: ActivityDeps, bindings: Record<string, unknown> = {}): Logger {
  const info = Context.current().info;
  return deps.logger.child({
    workflowId: info.workflowExecution?.workflowId,
    activity: info.activityType,
    attempt: info.attempt,
    ...bindings,
    ...currentLogFields(),
  });
}
