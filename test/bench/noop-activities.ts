/** Activities that do nothing: what Temporal costs for an activity, with no work of ours in it. */
export async function noop(): Promise<void> {
  // intentionally empty
}

export type NoopActivities = { noop: typeof noop };
