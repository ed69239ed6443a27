/** Bytes of key storage to start with; doubled as it fills. */
const INITIAL_KEY_BYTES = 64 * 1024;
/** Entries (and slots / 2) to start with. */
const INITIAL_ENTRIES = 1024;

/**
 * The finished (iteration, pair id) pairs of a run, held compactly because a resume of a large
 * run holds one per finished pair: the ids' UTF-8 bytes one after another in one buffer, and an
 * open-addressing table of entry numbers over them (~30 bytes per pair, against ~65 for a `Set`
 * of strings). Exact: a lookup compares the bytes, never only a hash. Pairs can be added straight
 * from the bytes of a run file, without a string per pair.
 */
export class FinishedPairs {
  /** Pairs held. */
  size = 0;
  private keys = Buffer.allocUnsafe(INITIAL_KEY_BYTES);
  private keyBytes = 0;
  /** Per entry: where its id ends in `keys` (it starts where the previous one ends), its iteration and hash. */
  private ends = new Uint32Array(INITIAL_ENTRIES);
  private iterations = new Uint32Array(INITIAL_ENTRIES);
  private hashes = new Uint32Array(INITIAL_ENTRIES);
  /** Entry number + 1 per slot (0: empty); a power of two, at most half full. */
  private slots = new Uint32Array(INITIAL_ENTRIES * 2);
  private scratch = Buffer.allocUnsafe(256);

  add(iteration: number, pairId: string): void {
    const length = this.encode(pairId);
    this.addBytes(iteration, this.scratch, 0, length);
  }

  has(iteration: number, pairId: string): boolean {
    const length = this.encode(pairId);
    return this.find(iteration, this.scratch, 0, length, hashOf(iteration, this.scratch, 0, length)) !== -1;
  }

  /** Adds the pair whose id is the UTF-8 bytes `source[start, end)`. */
  addBytes(iteration: number, source: Buffer, start: number, end: number): void {
    const hash = hashOf(iteration, source, start, end);
    const slot = this.find(iteration, source, start, end, hash);
    if (slot !== -1) return;
    const length = end - start;
    if (this.keyBytes + length > this.keys.length) {
      const keys = Buffer.allocUnsafe(Math.max(this.keys.length * 2, this.keyBytes + length));
      this.keys.copy(keys, 0, 0, this.keyBytes);
      this.keys = keys;
    }
    source.copy(this.keys, this.keyBytes, start, end);
    this.keyBytes += length;
    if (this.size === this.ends.length) {
      this.ends = grown(this.ends);
      this.iterations = grown(this.iterations);
      this.hashes = grown(this.hashes);
    }
    const entry = this.size++;
    this.ends[entry] = this.keyBytes;
    this.iterations[entry] = iteration;
    this.hashes[entry] = hash;
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.slots[this.emptySlotFor(hash)] = entry + 1;
  }

  /** The slot holding the pair, or -1. */
  private find(iteration: number, source: Buffer, start: number, end: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const held = this.slots[slot];
      if (held === 0) return -1;
      const entry = held - 1;
      if (this.hashes[entry] !== hash || this.iterations[entry] !== iteration) continue;
      const keyStart = entry === 0 ? 0 : this.ends[entry - 1];
      const keyEnd = this.ends[entry];
      if (keyEnd - keyStart === end - start && source.compare(this.keys, keyStart, keyEnd, start, end) === 0)
        return slot;
    }
  }

  private emptySlotFor(hash: number): number {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    return slot;
  }

  private rehash(slotCount: number): void {
    this.slots = new Uint32Array(slotCount);
    for (let entry = 0; entry < this.size; entry++) this.slots[this.emptySlotFor(this.hashes[entry])] = entry + 1;
  }

  /** Writes `pairId` as UTF-8 into `scratch`; returns its length in bytes. */
  private encode(pairId: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (pairId.length * 3 > this.scratch.length) this.scratch = Buffer.allocUnsafe(pairId.length * 3);
    return this.scratch.write(pairId, 0, 'utf8');
  }
}

/** FNV-1a over the iteration and the id's bytes. */
function hashOf(iteration: number, source: Buffer, start: number, end: number): number {
  let hash = Math.imul(0x811c9dc5 ^ iteration, 0x01000193);
  for (let index = start; index < end; index++) hash = Math.imul(hash ^ source[index], 0x01000193);
  return hash >>> 0;
}

function grown(array: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
