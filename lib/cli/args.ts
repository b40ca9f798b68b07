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
