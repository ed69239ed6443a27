import { cpus, freemem, loadavg, totalmem } from 'node:os';

/** The machine a benchmark ran on, as printed with the table and kept in RESULTS.md. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  nodeVersion: string;
  platform: string;
  totalMemoryGb: number;
  /** 1-minute load average when the benchmark started: other work on the machine skews every figure. */
  loadAverageAtStart: number;
}

export function describeMachine(): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    nodeVersion: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function currentLoad(): number {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function freeMemoryGb(): number {
  return Math.round((freemem() / 1024 ** 3) * 10) / 10;
}
