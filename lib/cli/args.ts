import { InvalidArgumentError as CommanderArgError } from 'commander';

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
/**
 * A timeout in seconds, or `none` (also `null`, `off`) for no timeout. `none` stays a string here
 * (commander turns a parser's null into ''); the caller maps it to null.
 */
export function timeoutArg(value: string): number | 'none' {
  if (/^(none|null|off)$/i.test(value.trim())) return 'none';
  const n = floatArg(value);
  if (n < 0) throw new CommanderArgError(`invalid timeout: '${value}' (seconds ≥ 0, or none)`);
  return n;
}
