/**
 * Prints the scale-size figures (bench/RESULTS.md, "Scale: size"): resume and end-of-run phases on
 * synthetic run directories of each size, and the Redis response cache after N committed pairs.
 *
 * Usage: node --import tsx bench/run-scale-sizes.ts [--sizes 20000,200000] [--redis-pairs 20000,200000] [--resume-rows 1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureRedisCacheSize, measureResumeReadBack, measureScaleSizes } from './bench-scale.ts';
import { currentLoad } from './machine.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '20000,200000' },
    'redis-pairs': { type: 'string', default: '20000,200000' },
    'resume-rows': { type: 'string', default: '1000000' },
  },
});
const numbers = (text: string) => text.split(',').filter(Boolean).map(Number);
const workDir = mkdtempSync(join(tmpdir(), 'pf-bench-sizes-'));
const log = (line: string) => console.error(line);
try {
  const sizes = await measureScaleSizes(numbers(values.sizes), { workDir, log });
  const row = (label: string, pick: (size: (typeof sizes)[number]) => string) =>
    `| ${label} | ${sizes.map(pick).join(' | ')} |`;
  console.log(
    `| phase (each in a fresh process) | ${sizes.map((size) => `${size.conversations.toLocaleString('en-US')} conversations`).join(' | ')} |`,
  );
  console.log(`|---|${sizes.map(() => '---').join('|')}|`);
  console.log(
    row(
      'run files (conversations.jsonl / candidates.jsonl)',
      (size) => `${size.conversationsFileMb.toFixed(0)} / ${size.candidatesFileMb.toFixed(0)} MB`,
    ),
  );
  for (const phase of ['resume', 'parquet', 'finish', 'end-of-run'] as const) {
    console.log(row(`${phase}: peak RSS growth`, (size) => `+${size.phases[phase].peakGrowthMb.toFixed(0)} MB`));
    console.log(
      row(
        `${phase}: CPU / wall`,
        (size) => `${(size.phases[phase].cpuMs / 1000).toFixed(1)} s / ${(size.phases[phase].ms / 1000).toFixed(1)} s`,
      ),
    );
  }
  console.log(row('load average at the end', (size) => size.loadAverage.toFixed(1)));
  for (const pairs of numbers(values['redis-pairs'])) {
    // Keeping every reply is linear by construction (one entry per reply): measured at the smallest size only.
    const cache = await measureRedisCacheSize(pairs, { compareWithKept: pairs === numbers(values['redis-pairs'])[0] });
    console.log(
      `Redis cache after ${pairs.toLocaleString('en-US')} committed pairs (${cache.inFlightPairs} in flight, ${cache.repliesPerPair} replies each): ` +
        `${cache.cacheKeys.toLocaleString('en-US')} entries, used_memory ${cache.usedMb.toFixed(1)} MB; ` +
        `keeping every reply (before): ${cache.cacheKeysKept.toLocaleString('en-US')} entries, ${cache.usedMbKept.toFixed(1)} MB (load ${currentLoad().toFixed(1)})`,
    );
  }
  for (const rows of numbers(values['resume-rows'])) {
    const resume = await measureResumeReadBack(rows, { workDir, log });
    console.log(
      `Resume read-back of ${rows.toLocaleString('en-US')} rows (conversations.jsonl ${resume.conversationsFileMb.toFixed(0)} MB, outcomes for 1.5x as many pairs, no candidates.jsonl): ` +
        `${(resume.reading.cpuMs / 1000).toFixed(1)} s CPU, ${(resume.reading.ms / 1000).toFixed(1)} s wall, +${resume.reading.peakGrowthMb.toFixed(0)} MB peak RSS (load ${resume.loadAverage.toFixed(1)})`,
    );
  }
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
