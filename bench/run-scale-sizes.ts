/**
 * Prints the scale-size figures (bench/RESULTS.md, "Scale: size"): resume and end-of-run phases on
 * synthetic run directories of each size, and the Redis response cache after N committed pairs.
 *
 * Usage: node --import tsx bench/run-scale-sizes.ts [--sizes 20000,200000] [--redis-pairs 20000,200000] [--resume-rows 20000,200000,1000000]
 * (an empty list skips that part: `--sizes= --redis-pairs=` measures only the resume read-back)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  measureRedisCacheSize,
  measureResumeReadBack,
  measureScaleSizes,
  type ResumeReadBackMeasurement,
} from './bench-scale.ts';
import type { PhaseReading } from './end-of-run-process.ts';
import { currentLoad } from './machine.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '20000,200000' },
    'redis-pairs': { type: 'string', default: '20000,200000' },
    'resume-rows': { type: 'string', default: '20000,200000,1000000' },
  },
});
const numbers = (text: string) => text.split(',').filter(Boolean).map(Number);
const workDir = mkdtempSync(join(tmpdir(), 'pf-bench-sizes-'));
const log = (line: string) => console.error(line);
try {
  const sizes = await measureScaleSizes(numbers(values.sizes), { workDir, log });
  const row = (label: string, pick: (size: (typeof sizes)[number]) => string) =>
    `| ${label} | ${sizes.map(pick).join(' | ')} |`;
  if (sizes.length) {
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
    for (const phase of ['resume', 'parquet', 'finish', 'end-of-run', 'coordinator', 'planning'] as const) {
      console.log(row(`${phase}: peak RSS growth`, (size) => `+${size.phases[phase].peakGrowthMb.toFixed(0)} MB`));
      console.log(
        row(
          `${phase}: CPU / wall`,
          (size) =>
            `${(size.phases[phase].cpuMs / 1000).toFixed(1)} s / ${(size.phases[phase].ms / 1000).toFixed(1)} s`,
        ),
      );
    }
    console.log(
      row(
        'coordinator: live heap (after GC) over its start',
        (size) => `+${(size.phases.coordinator.liveHeapMb ?? Number.NaN).toFixed(1)} MB`,
      ),
    );
    for (const phase of ['parquet', 'finish', 'end-of-run'] as const) {
      console.log(
        row(
          `${phase}: absolute peak RSS (start + growth)`,
          (size) => `${(size.phases[phase].startRssMb + size.phases[phase].peakGrowthMb).toFixed(0)} MB`,
        ),
      );
    }
    console.log(row('load average at the end', (size) => size.loadAverage.toFixed(1)));
  }
  for (const pairs of numbers(values['redis-pairs'])) {
    // Keeping every reply is linear by construction (one entry per reply): measured at the smallest size only.
    const cache = await measureRedisCacheSize(pairs, { compareWithKept: pairs === numbers(values['redis-pairs'])[0] });
    console.log(
      `Redis cache after ${pairs.toLocaleString('en-US')} committed pairs (${cache.inFlightPairs} in flight, ${cache.repliesPerPair} replies each): ` +
        `${cache.cacheKeys.toLocaleString('en-US')} entries, used_memory ${cache.usedMb.toFixed(1)} MB; ` +
        `keeping every reply (before): ${cache.cacheKeysKept.toLocaleString('en-US')} entries, ${cache.usedMbKept.toFixed(1)} MB (load ${currentLoad().toFixed(1)})`,
    );
  }
  const resumes: ResumeReadBackMeasurement[] = [];
  for (const rows of numbers(values['resume-rows'])) {
    // candidates.jsonl up to 200k conversations (1.5 GB there; a million's would be ~7 GB).
    resumes.push(await measureResumeReadBack(rows, { workDir, log, candidates: rows <= 200_000 }));
    const { withCheckpoint, withoutCheckpoint } = resumes.at(-1)!;
    log(
      `  resume of ${rows}: with checkpoint ${withCheckpoint.cpuMs.toFixed(0)} ms CPU, without ${withoutCheckpoint.cpuMs.toFixed(0)} ms CPU (load ${currentLoad().toFixed(1)})`,
    );
  }
  if (resumes.length) printResumes(resumes);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

function printResumes(resumes: ResumeReadBackMeasurement[]): void {
  const row = (label: string, pick: (resume: ResumeReadBackMeasurement) => string) =>
    console.log(`| ${label} | ${resumes.map(pick).join(' | ')} |`);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const reading = (phase: PhaseReading) =>
    `${seconds(phase.cpuMs)} / ${seconds(phase.ms)} / +${phase.peakGrowthMb.toFixed(0)} MB`;
  row(
    'resume read-back (`RunState.open`, each in a fresh process)',
    (resume) =>
      `${resume.conversations.toLocaleString('en-US')} conversations (${resume.pairs.toLocaleString('en-US')} pairs)`,
  );
  console.log(`|---|${resumes.map(() => '---').join('|')}|`);
  row(
    'run files: conversations / outcomes / candidates',
    (resume) =>
      `${resume.conversationsFileMb.toFixed(0)} / ${resume.outcomesFileMb.toFixed(0)} / ${resume.candidatesFileMb.toFixed(0)} MB`,
  );
  row(
    `after a crash ${resumes[0].pairsPastCheckpoint.toLocaleString('en-US')} pairs past the checkpoint: CPU / wall / peak RSS growth`,
    (resume) => reading(resume.withCheckpoint),
  );
  row('no checkpoint (every line parsed): CPU / wall / peak RSS growth', (resume) => reading(resume.withoutCheckpoint));
  row('load average at the end', (resume) => resume.loadAverage.toFixed(1));
}
