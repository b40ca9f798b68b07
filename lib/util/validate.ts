import type { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';

/** A zod error as one line: each issue's message with the field it is at, joined by "; " (no newlines). */
export function issuesText(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const message = issue.message.replace(/\s*\n\s*/g, ' ');
      return issue.path.length > 0 ? `${message} (at ${issue.path.join('.')})` : message;
    })
    .join('; ');
}

/** Parses options with a zod schema; failures become InvalidArgumentError naming the field, in one line. */
export function parseOptions<S extends z.ZodType>(op: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new InvalidArgumentError(`${op}: invalid options: ${issuesText(result.error)}`, {
    op,
    details: { issues: result.error.issues },
  });
}
