// A client's memory_budget_mb may lower a job's budget, never raise it past the worker's own.
import { describe, expect, it } from 'vitest';

import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { PipelineConfig } from '../../lib/pipeline/config.js';
import { songMemoryBudgetBytes } from '../../lib/pipeline/memory.js';
import { withServerMemoryCap } from '../../lib/service/runner.js';

describe('withServerMemoryCap', () => {
  const plan = planConcurrency({ jobs: 1 });
  const capMb = Math.floor(songMemoryBudgetBytes(null, plan.jobs) / 2 ** 20);
  const config = (memoryBudgetMb: number | null) => new PipelineConfig({ inputWav: 'a.wav', songId: 's', outDir: 'out', memoryBudgetMb }, { warn: null });

  it('caps a budget above the worker’s own', () => {
    expect(withServerMemoryCap(config(capMb * 1000), plan).memoryBudgetMb).toBe(capMb);
  });
  it('keeps a lower budget and the default', () => {
    expect(withServerMemoryCap(config(64), plan).memoryBudgetMb).toBe(64);
    expect(withServerMemoryCap(config(null), plan).memoryBudgetMb).toBeNull();
  });
});
