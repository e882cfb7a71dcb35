import { z } from 'zod';

/** Where Temporal is and which queue the series run on; read from the environment by client and worker alike. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export const DEFAULT_TASK_QUEUE = 'sora-series';

const settingsSchema = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  SORA_SERIES_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
});

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SettingsError(`${String(issue.path[0])}: ${issue.message}`);
  }
  return {
    address: parsed.data.TEMPORAL_ADDRESS,
    namespace: parsed.data.TEMPORAL_NAMESPACE,
    taskQueue: parsed.data.SORA_SERIES_TASK_QUEUE,
  };
}
