import { seriesIdOf } from '../../workflows/ids';

/** An argument a caller gave that cannot be used (the CLI exits 2 for it, like other usage errors). */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** `my-series` means `series/my-series`; anything with a slash is taken as a full workflow id. */
export function resolveSeriesId(raw: string): string {
  const id = raw.trim();
  if (!id)
    throw new ArgumentError(
      '<id>: must not be empty; give a series name (my-series) or a workflow id (series/my-series)',
    );
  return seriesIdOf(id);
}
