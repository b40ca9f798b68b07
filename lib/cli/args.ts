import { InvalidArgumentError as CommanderArgError } from './commander.js';

/** argparse's `type=int` / `type=float` messages for option values. */
export function intArg(value: string): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw new CommanderArgError(`invalid int value: '${value}'`);
  return Number.parseInt(value, 10);
}
export function floatArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || Number.isNaN(n)) throw new CommanderArgError(`invalid float value: '${value}'`);
  return n;
}
/** An int option within [min, max]: a usage error (exit 2) outside it, before any work starts. */
export function boundedIntArg(min: number, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = intArg(value);
    if (n < min || n > max) throw new CommanderArgError(`must be an integer ${max === Infinity ? `≥ ${min}` : `in ${min}..${max}`}, got '${value}'`);
    return n;
  };
}
/**
 * A timeout in seconds, or `none` (also `null`, `off`) for no timeout. `none` stays a string here
 * (commander turns a parser's null into ''); the caller maps it to null. Its range is the config's
 * rule: a negative value fails there with the original's message and exit code (1).
 */
export function timeoutArg(value: string): number | 'none' {
  if (/^(none|null|off)$/i.test(value.trim())) return 'none';
  return floatArg(value);
}
