/**
 * argparse conventions the original's users rely on, applied to argv before commander parses it:
 * unambiguous abbreviations of long options (`--song` for `--song-id`), the last `--wav` wins when
 * it is given more than once (several files after one `--wav` stay a batch), and `--progress`
 * with `--no-progress` is a usage error.
 */
import { CommanderError, type Command } from './commander.js';

/** A usage error: exit code 2, one line and a hint (as argparse prints them). */
export function usageError(message: string): CommanderError {
  return new CommanderError(2, 'didactic.usage', `error: ${message}`);
}

function longOptions(command: Command): string[] {
  return command.options.flatMap((o) => (o.long ? [o.long] : []));
}

/** Expands abbreviations of `command`'s long options in `args` (tokens after the program name). */
function expandAbbreviations(args: string[], known: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!token.startsWith('--') || token === '--') {
      out.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    if (known.includes(name)) {
      out.push(token);
      continue;
    }
    const matches = known.filter((k) => k.startsWith(name));
    if (matches.length > 1) throw usageError(`ambiguous option: ${name} could match ${matches.join(', ')}`);
    out.push(matches.length === 1 ? matches[0]! + (eq === -1 ? '' : token.slice(eq)) : token);
  }
  return out;
}

/** With `--wav` given more than once, only the last occurrence (and its files) is kept. */
function lastWavWins(args: string[]): string[] {
  const starts = args.flatMap((t, i) => (t === '--wav' || t.startsWith('--wav=') ? [i] : []));
  if (starts.length <= 1) return args;
  const drop = new Set<number>();
  for (const start of starts.slice(0, -1)) {
    drop.add(start);
    if (args[start]!.includes('=')) continue;
    for (let j = start + 1; j < args.length && !args[j]!.startsWith('-'); j++) drop.add(j);
  }
  return args.filter((_, i) => !drop.has(i));
}

/** argv (node, script, …args) as the original's argparse would read it. */
export function normalizeArgv(argv: string[], program: Command): string[] {
  const [node, script, ...args] = argv;
  const sub = program.commands.find((c) => args[0] === c.name());
  if (sub) return [node!, script!, args[0]!, ...expandAbbreviations(args.slice(1), longOptions(sub))];
  const expanded = lastWavWins(expandAbbreviations(args, longOptions(program)));
  if (expanded.includes('--progress') && expanded.includes('--no-progress')) {
    throw usageError('argument --no-progress: not allowed with argument --progress');
  }
  return [node!, script!, ...expanded];
}
