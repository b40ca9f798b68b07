/** The WAV sample formats writeWav can write, on their own (no zod) for the CLI's `--subtype` choices. */
export const WAV_SUBTYPES = ['PCM_16', 'PCM_24', 'FLOAT'] as const;
