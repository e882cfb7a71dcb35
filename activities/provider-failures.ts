import { ProviderError, toApplicationFailure } from './providers/errors';

/** A classified provider error becomes the failure workflows route on; anything else stays as it is. */
export function asActivityFailure(err: unknown): unknown {
  return err instanceof ProviderError ? toApplicationFailure(err) : err;
}

/** Runs an upstream call, converting its provider errors. */
export async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asActivityFailure(err);
  }
}
