import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadClientConfigFromToml, type ClientConfigProfile } from '@temporalio/envconfig';

/** The variables that pick a Temporal config file (`temporal.toml`) and a profile in it. */
export const CONFIG_FILE_ENV = 'TEMPORAL_CONFIG_FILE';
export const PROFILE_ENV = 'TEMPORAL_PROFILE';
export const DEFAULT_PROFILE = 'default';

/** A config file that was found and parsed, and the profile the settings start from. */
export interface ConfigFile {
  path: string;
  /** The file's text, handed to envconfig for its merge with the environment. */
  text: string;
  /** The profile in use: TEMPORAL_PROFILE's, else `default`. */
  profileName: string;
  /** That profile, or undefined when the file has none by that name. */
  profile?: ClientConfigProfile;
  /** Names a value of the profile in a message (`[profile.prod] address`); the message names the file once. */
  label(key: string): string;
}

/**
 * Where the `temporal` CLI and the SDKs look when TEMPORAL_CONFIG_FILE is unset. envconfig does
 * not export its lookup, and a message about the file must name it.
 */
export function defaultConfigFile(vars: Record<string, string>, platform = process.platform): string | undefined {
  let dir: string | undefined;
  if (platform === 'win32') dir = vars.APPDATA;
  else if (platform === 'darwin') dir = vars.HOME && join(vars.HOME, 'Library', 'Application Support');
  else if (vars.XDG_CONFIG_HOME) dir = isAbsolute(vars.XDG_CONFIG_HOME) ? vars.XDG_CONFIG_HOME : undefined;
  else dir = vars.HOME && join(vars.HOME, '.config');
  return dir ? join(dir, 'temporalio', 'temporal.toml') : undefined;
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();

/**
 * The config file named by TEMPORAL_CONFIG_FILE (which must exist) or found at the default place
 * (which may not), parsed strictly so a misspelt key is reported instead of silently ignored.
 * Problems are added to `problems`, naming the variable or the file and the fix.
 */
export function readConfigFile(vars: Record<string, string>, problems: string[]): ConfigFile | undefined {
  const explicit = vars[CONFIG_FILE_ENV];
  const path = explicit ?? defaultConfigFile(vars);
  const profileName = vars[PROFILE_ENV] ?? DEFAULT_PROFILE;
  const named = explicit ? `${CONFIG_FILE_ENV}: ${path}` : `${path} (the default Temporal config file)`;
  let text: string | undefined;
  if (path) {
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? firstLine(err);
      if (explicit)
        problems.push(`${named}: cannot read it (${code}): point it at a readable temporal.toml, or unset it`);
      else if (code !== 'ENOENT')
        problems.push(
          `${named}: cannot read it (${code}): make it readable, or set ${CONFIG_FILE_ENV} to another file`,
        );
    }
  }
  if (text === undefined || !path) {
    if (vars[PROFILE_ENV])
      problems.push(
        `${PROFILE_ENV}: profile "${profileName}" is asked for but no config file was read: set ${CONFIG_FILE_ENV} to the temporal.toml that has [profile.${profileName}], or unset ${PROFILE_ENV}`,
      );
    return undefined;
  }
  let profiles: Record<string, ClientConfigProfile>;
  try {
    profiles = loadClientConfigFromToml(Buffer.from(text), { strict: true }).profiles;
  } catch (err) {
    problems.push(
      `${named}: not a valid Temporal config file (${firstLine(err)}): fix it; it holds [profile.<name>] tables with address, namespace, api_key, [profile.<name>.tls] and grpc_meta`,
    );
    return undefined;
  }
  const profile = profiles[profileName];
  if (!profile && vars[PROFILE_ENV]) {
    const known = Object.keys(profiles);
    problems.push(
      `${PROFILE_ENV}: ${path} has no profile "${profileName}" (${known.length ? `it has ${known.join(', ')}` : 'it has none'}): set ${PROFILE_ENV} to one of those, or add [profile.${profileName}] to the file`,
    );
  }
  return { path, text, profileName, profile, label: (key) => `[profile.${profileName}] ${key}` };
}
