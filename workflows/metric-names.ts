/**
 * The project's metrics, as the worker's Prometheus endpoint names them (next to Temporal's own
 * `temporal_*`). Plain constants: workflows, activities, the worker and tests share them.
 */
export const METRIC = {
  /** Counter; labels `status` (completed, rejected, failed, cancelled). */
  scenesFinished: 'sora_scenes_finished',
  /** Counter; labels `provider`, `outcome` (completed, rejected, unavailable, failed). */
  takes: 'sora_takes',
  /** Histogram of the billed cost of each paid take, in USD; label `provider`. Its `_sum` is the money spent. */
  takeCostUsd: 'sora_take_cost_usd',
  /** Counter; labels `from`, `to` (providers). */
  fallbacks: 'sora_fallbacks',
  /** Counter; labels `provider`, `kind` (transient, rate_limited, unavailable, rejected, invalid). */
  providerErrors: 'sora_provider_errors',
} as const;

/** Buckets for per-take cost (Temporal's default buckets are latencies in ms). */
export const TAKE_COST_BUCKETS_USD = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
