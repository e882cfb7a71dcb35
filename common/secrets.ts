/**
 * The one scrubber for text that may carry a credential: finished log lines (workers/logger.ts)
 * and upstream error messages (activities/providers/errors.ts), which can echo a key back.
 */

/** What a blanked credential reads as. */
export const REDACTED = '[redacted]';

/** Given values shorter than this would blank ordinary words. */
const MIN_GIVEN_LENGTH = 4;
/** Values found by variable name are guesses: shorter ones are more likely flags or ports than keys. */
const MIN_ENV_SECRET_LENGTH = 8;

/** Environment variables that hold credentials, by name. */
const SECRET_ENV_NAME = /(^|_)(API_?KEYS?|KEYS?|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)($|_)/i;

/**
 * Values to blank: variables named like keys, plus the named ones (each provider's `keyEnv`: a
 * config may name its key variable anything).
 */
export function secretValuesFromEnv(env: NodeJS.ProcessEnv = process.env, keyEnvs: readonly string[] = []): string[] {
  const names = new Set([...Object.keys(env).filter((n) => SECRET_ENV_NAME.test(n)), ...keyEnvs]);
  return [...names].map((n) => env[n]?.trim() ?? '').filter((v) => v.length >= MIN_ENV_SECRET_LENGTH);
}

/** Blanks the given values (also as they appear JSON-escaped), bearer and basic credentials, and `sk-` keys. */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first: a value that is part of another would leave the rest of the other behind.
  const values = secrets.filter((s) => s.length >= MIN_GIVEN_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of values) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
  }
  return out
    .replace(/(Bearer|Basic)\s+[^\s"\\,;]+/gi, `$1 ${REDACTED}`)
    .replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, `sk-${REDACTED}`);
}
