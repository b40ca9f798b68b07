import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';

/** Parses options with a zod schema; failures become InvalidArgumentError naming the field. */
export function parseOptions<S extends z.ZodType>(op: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const where = first && first.path.length > 0 ? ` (${first.path.join('.')})` : '';
  throw new InvalidArgumentError(`${op}: invalid options${where}: ${z.prettifyError(result.error)}`, {
    op,
    details: { issues: result.error.issues },
  });
}
