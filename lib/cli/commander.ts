/**
 * commander, required rather than imported: it is CommonJS, and an ESM import of it first scans its
 * files for their named exports; require() only compiles them (every command, --version included,
 * starts a little sooner). The CLI's modules take commander from here.
 */
import { createRequire } from 'node:module';

import type * as Commander from 'commander';

export const { Command, CommanderError, InvalidArgumentError, Option } = createRequire(import.meta.url)('commander') as typeof Commander;
export type Command = Commander.Command;
export type CommanderError = Commander.CommanderError;
export type InvalidArgumentError = Commander.InvalidArgumentError;
export type Option = Commander.Option;
