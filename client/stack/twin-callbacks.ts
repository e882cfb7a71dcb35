import { randomBytes } from 'node:crypto';
import type { SimulatorWebhooks } from '../../activities/providers/simulator-entries';
import type { RunningSimulator } from '../../simulator/server';

/** The variable the dev stack keeps the Kling twin's webhook secret in (its own env copy, never process.env). */
export const DEV_KLING_SECRET_ENV = 'SORA_KLING_WEBHOOK_SECRET';

/**
 * Where the default chain's twins call back in the dev stack: the gateway at `gatewayUrl`. Kling's
 * callbacks are signed with a secret made for this run, handed to the twin and put in `env` for
 * the gateway to verify with; fal's are signed by the twin's own key (its JWKS); seedance's are
 * unsigned hints, as the contracts have them.
 */
export function twinCallbacks(
  simulator: Pick<RunningSimulator, 'setKlingCallbacks'>,
  env: NodeJS.ProcessEnv,
  gatewayUrl: string,
): SimulatorWebhooks {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  env[DEV_KLING_SECRET_ENV] = secret;
  simulator.setKlingCallbacks({ secret });
  return { gatewayUrl, klingSecretEnv: DEV_KLING_SECRET_ENV };
}
