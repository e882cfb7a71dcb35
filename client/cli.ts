#!/usr/bin/env node
import { ArgumentError } from './series/series-id';
import { asksForHelp, commandHelp, parseCommand } from './commands/command';
import { COMMANDS, mainHelp, packageVersion } from './commands/table';

const print = (text: string) => process.stdout.write(`${text}\n`);

function commandNamed(name: string) {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) return command;
  // A group of two-word commands (`characters create`) named alone or with an unknown second word.
  const group = Object.keys(COMMANDS).filter((c) => c.startsWith(`${name.split(' ')[0]} `));
  if (group.length)
    throw new ArgumentError(`unknown command "${name}": give one of ${group.map((c) => `"${c}"`).join(', ')}`);
  throw new ArgumentError(`unknown command "${name}": run sora-series --help for the commands`);
}

/** The command's name (one word, or two for a group such as `characters create`) and the rest. */
function splitCommand(argv: string[]): [string | undefined, string[]] {
  const [first, second, ...after] = argv;
  if (first !== undefined && second !== undefined && Object.hasOwn(COMMANDS, `${first} ${second}`))
    return [`${first} ${second}`, after];
  return [first, argv.slice(1)];
}

async function main(argv: string[]): Promise<number> {
  const [name, rest] = splitCommand(argv);
  const helpAlone = name === 'help' && (rest.length === 0 || asksForHelp(rest.slice(0, 1)));
  if (name === undefined || name === '--help' || name === '-h' || helpAlone) {
    print(mainHelp());
    return 0;
  }
  if (name === '--version') {
    print(packageVersion());
    return 0;
  }
  if (name === 'help') {
    const [asked] = splitCommand(rest);
    print(commandHelp(asked!, commandNamed(asked!)));
    return 0;
  }
  const command = commandNamed(name);
  if (asksForHelp(rest)) {
    print(commandHelp(name, command));
    return 0;
  }
  // The arguments are checked here and their values by the command, before it connects to Temporal.
  const { args, values } = parseCommand(name, command, rest);
  return command.run({ args, values, print });
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`sora-series: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`);
      process.exit(2);
    },
  );
}
