import { checkProviders, type ProviderCheck } from '../providers/check';
import { clientProviderConfig } from '../spec/provider-profiles';
import { validateSpecFile } from '../spec/validate';
import { ArgumentError } from '../series/series-id';
import { columns, JSON_OPTION, type CommandSpec } from './command';

/** `providers check`: is every provider a series may use ready, before anything is spent? */
export const providersCheckCommand: CommandSpec = {
  summary: 'check every configured provider: key, account, webhooks, price of a 10 s scene (spends nothing)',
  details:
    'Reads the provider config and the keys from this environment (run it where the worker runs; keys are never printed). With --spec, checks only the providers that series may use. Exit 1 when a checked provider is unusable (key missing or refused, provider unreachable, account unable to pay).',
  args: [],
  options: {
    spec: { type: 'string', value: 'FILE', help: "check only the providers of this spec's chain" },
    json: JSON_OPTION,
  },
  async run({ values, print }) {
    const { config, source } = clientProviderConfig();
    let checked = config;
    if (typeof values.spec === 'string') {
      const { input } = await validateSpecFile(values.spec);
      checked = { providers: config.providers.filter((p) => input.providers.includes(p.name)) };
      if (checked.providers.length === 0)
        throw new ArgumentError(`--spec ${values.spec}: none of its providers is in the provider config (${source})`);
    }
    const rows = await checkProviders(checked);
    print(values.json ? JSON.stringify({ source, providers: rows }) : formatChecks(rows, source));
    return rows.every((r) => r.usable) ? 0 : 1;
  },
};

function formatChecks(rows: ProviderCheck[], source: string): string {
  const account = (r: ProviderCheck) =>
    r.account.canPay === undefined ? 'not told' : r.account.canPay ? 'can pay' : 'cannot pay';
  const table = rows.map((r): [string, string] => [
    `${r.usable ? 'ok ' : 'NO '} ${r.provider} (${r.contract})`,
    [
      `key ${r.key}`,
      `account ${account(r)}${r.account.detail ? ` (${r.account.detail})` : ''}`,
      `webhooks ${r.webhook.state}: ${r.webhook.detail}`,
      `${r.scene.seconds} s at ${r.scene.size}: $${r.scene.usd.toFixed(2)}`,
    ].join('; '),
  ]);
  const problems = rows.flatMap((r) => (r.problem ? [`  ${r.provider}: ${r.problem}`] : []));
  return [`providers from ${source}:`, columns(table), ...(problems.length ? ['problems:', ...problems] : [])].join(
    '\n',
  );
}
