import { parseSpec, toSeriesInput, type SeriesSpec } from '../../client/spec/spec';
import type { SeriesInput } from '../../workflows/types';

let serial = 0;

/** A valid series input pointing at a simulator; unique name per call so workflow ids never clash. */
export function seriesInput(
  simulatorUrl: string,
  overrides: Partial<Record<keyof SeriesSpec, unknown>> = {},
  scenes = 3,
): SeriesInput {
  return toSeriesInput(
    parseSpec({
      name: `test-${Date.now()}-${++serial}`,
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
