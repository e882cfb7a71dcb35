import { parseSpec, SpecError } from '../../client/spec/parse-spec';
import { toSeriesInput } from '../../client/spec/series-input';
import type { SeriesSpec } from '../../client/spec/spec-schema';
import type { SeriesInput } from '../../workflows/types';

let serial = 0;

/**
 * A valid series input pointing at a simulator; unique name per call so workflow ids never clash,
 * also with suites running at once in other jest workers (the pid) on the one dev server.
 */
export function seriesInput(
  simulatorUrl: string,
  overrides: Partial<Record<keyof SeriesSpec, unknown>> = {},
  scenes = 3,
): SeriesInput {
  return toSeriesInput(
    parseSpec({
      name: `test-${process.pid}-${Date.now()}-${++serial}`,
      character: {
        name: 'Mira',
        description: 'a red-haired courier in a yellow raincoat',
        clip: `${simulatorUrl}/clips/mira.mp4`,
      },
      providers: ['relay', 'official'],
      scenes: Array.from({ length: scenes }, (_, i) => ({ prompt: `@character scene number ${i + 1} by the sea` })),
      ...overrides,
    }),
  );
}

/** The problems parseSpec names for a spec it refuses; a spec it accepts fails the test. */
export function specIssues(spec: unknown, options?: Parameters<typeof parseSpec>[2]): string[] {
  try {
    parseSpec(spec, undefined, options);
  } catch (err) {
    if (err instanceof SpecError) return err.issues;
    throw err;
  }
  throw new Error('spec was accepted');
}
