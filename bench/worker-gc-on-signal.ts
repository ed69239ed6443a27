/**
 * Bench-only preload for worker processes (`--expose-gc --import`): SIGUSR2 runs a full GC, so
 * the scale benchmark can read a worker's RSS after it, as it does for the coordinator's. Read
 * without a GC, a worker's RSS includes garbage not yet collected and heap V8 committed for it.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => gc?.());
