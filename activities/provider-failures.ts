import { currentActivityContext } from './activity-context';
import { ProviderError, toApplicationFailure } from './providers/errors';
import { METRIC } from '../workflows/metric-names';
import type { ErrorKind } from '../workflows/types';

/**
 * Counts one upstream error on the worker's metrics endpoint (tagged with the activity type by
 * the SDK). Outside an activity (unit tests of adapters) there is no meter and nothing to count.
 */
export function recordProviderError(provider: string, kind: ErrorKind): void {
  currentActivityContext()
    ?.metricMeter.createCounter(METRIC.providerErrors, undefined, 'upstream errors, by provider and kind')
    .add(1, { provider, kind });
}

/** A classified provider error becomes the failure workflows route on (and is counted); anything else stays as it is. */
export function asActivityFailure(err: unknown): unknown {
  if (!(err instanceof ProviderError)) return err;
  recordProviderError(err.provider, err.kind);
  return toApplicationFailure(err);
}

/** Runs an upstream call, converting its provider errors. */
export async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asActivityFailure(err);
  }
}
