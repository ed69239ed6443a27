/** Options of `findNearDuplicates`. */
export interface NearDuplicateOptions {
  /** Words per shingle. @defaultValue 3 */
  shingleSize?: number;
  /** A document is a near-duplicate when its shingle Jaccard to another one is strictly above this. @defaultValue 0.8 */
  threshold?: number;
}

/** Result of `findNearDuplicates`, aligned with the input documents. */
export interface NearDuplicateResult {
  /** `flagged[i]` is true when document i has at least one near-duplicate. */
  flagged: boolean[];
  /** Candidate pairs whose exact Jaccard was computed (for benchmarks; small compared with n²/2). */
  verifiedPairs: number;
}

const EXACT_ID_LIMIT = 131_072; // 2^17: three word ids fit exactly in 51 bits of a double.

/**
 * Flags documents (word-token arrays) whose word-shingle sets have Jaccard similarity > threshold
 * with another document. Exact, not approximate: an all-pairs similarity join with the prefix and
 * length filters (Bayardo et al. 2007). Shingles are ordered globally from rarest to most common;
 * two sets with J ≥ t must share a shingle within their first |x| − ⌈t·|x|⌉ + 1 rarest ones, so only
 * documents sharing a rare prefix shingle are compared. Cost is about O(S log S) for S shingles
 * plus the verified candidates — 20,000 conversations take a second or two.
 * Documents shorter than `shingleSize` words use their set of words as the shingle set; documents
 * with no words are never flagged.
 */
export function findNearDuplicates(
  documents: readonly (readonly string[])[],
  options: NearDuplicateOptions = {},
): NearDuplicateResult {
  const shingleSize = options.shingleSize ?? 3;
  const threshold = options.threshold ?? 0.8;
  if (!Number.isInteger(shingleSize) || shingleSize < 1)
    throw new RangeError(`Expected \`shingleSize\` to be a positive integer, got ${shingleSize}.`);
  if (!(threshold > 0 && threshold < 1)) throw new RangeError(`Expected \`threshold\` in (0, 1), got ${threshold}.`);

  const shingleSets = buildShingleSets(documents, shingleSize);
  const ranked = rankByRarity(shingleSets);
  return allPairsJoin(ranked.sets, ranked.vocabulary, threshold);
}

/** Each document's shingle keys, sorted ascending and deduplicated. */
function buildShingleSets(documents: readonly (readonly string[])[], shingleSize: number): Float64Array[] {
  const wordIds = new Map<string, number>();
  const idDocuments = documents.map((tokens) => {
    const ids = new Int32Array(tokens.length);
    for (let index = 0; index < tokens.length; index++) {
      let id = wordIds.get(tokens[index]);
      if (id === undefined) {
        id = wordIds.size;
        wordIds.set(tokens[index], id);
      }
      ids[index] = id;
    }
    return ids;
  });
  const exact = wordIds.size < EXACT_ID_LIMIT && shingleSize <= 3;
  return idDocuments.map((ids) => {
    const size = Math.min(shingleSize, ids.length);
    const count = size === 0 ? 0 : ids.length - size + 1;
    const keys = new Float64Array(count);
    for (let start = 0; start < count; start++)
      keys[start] = exact ? encodeExact(ids, start, size) : encodeHashed(ids, start, size);
    keys.sort();
    let unique = 0;
    for (let index = 0; index < keys.length; index++)
      if (index === 0 || keys[index] !== keys[index - 1]) keys[unique++] = keys[index];
    return keys.subarray(0, unique);
  });
}

function encodeExact(ids: Int32Array, start: number, size: number): number {
  let key = size; // distinguishes 1- and 2-word sets of short documents from 3-word shingles
  for (let offset = 0; offset < size; offset++) key = key * EXACT_ID_LIMIT + ids[start + offset];
  return key;
}

/** Two independent 32-bit FNV-style hashes folded into 52 bits: collisions are negligible. */
function encodeHashed(ids: Int32Array, start: number, size: number): number {
  let first = 2166136261 ^ size;
  let second = 0x9747b28c ^ size;
  for (let offset = 0; offset < size; offset++) {
    first = Math.imul(first ^ ids[start + offset], 16777619);
    second = Math.imul(second ^ (ids[start + offset] + 0x5bd1e995), 0x5bd1e995);
    second ^= second >>> 15;
  }
  return (first >>> 0) * 1_048_576 + ((second >>> 0) & 0xfffff);
}

/**
 * Replaces each shingle by its rank in the global order (rarest first, ties by key) and sorts each
 * set. Typed-array sorts and a binary search keep this fast for millions of shingles.
 */
function rankByRarity(shingleSets: Float64Array[]): { sets: Int32Array[]; vocabulary: number } {
  let total = 0;
  for (const set of shingleSets) total += set.length;
  const all = new Float64Array(total);
  let offset = 0;
  for (const set of shingleSets) {
    all.set(set, offset);
    offset += set.length;
  }
  all.sort();
  // Unique keys (ascending) and how many documents hold each (sets are already deduplicated).
  const uniqueKeys: number[] = [];
  const frequencies: number[] = [];
  for (let index = 0; index < all.length; index++) {
    if (index > 0 && all[index] === all[index - 1]) frequencies[frequencies.length - 1]++;
    else {
      uniqueKeys.push(all[index]);
      frequencies.push(1);
    }
  }
  const keys = Float64Array.from(uniqueKeys);
  // Counting sort of key positions by frequency; a stable pass keeps ties in key order.
  const maximum = frequencies.reduce((largest, value) => Math.max(largest, value), 0);
  const starts = new Int32Array(maximum + 2);
  for (const frequency of frequencies) starts[frequency + 1]++;
  for (let frequency = 1; frequency <= maximum + 1; frequency++) starts[frequency] += starts[frequency - 1];
  const rankOfPosition = new Int32Array(keys.length);
  for (let position = 0; position < keys.length; position++) rankOfPosition[position] = starts[frequencies[position]]++;
  const sets = shingleSets.map((set) => {
    const ranks = new Int32Array(set.length);
    for (let index = 0; index < set.length; index++) ranks[index] = rankOfPosition[binarySearch(keys, set[index])];
    return ranks.sort();
  });
  return { sets, vocabulary: keys.length };
}

function binarySearch(sortedKeys: Float64Array, key: number): number {
  let low = 0;
  let high = sortedKeys.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sortedKeys[middle] < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function allPairsJoin(sets: Int32Array[], vocabulary: number, threshold: number): NearDuplicateResult {
  const flagged = sets.map(() => false);
  // Process smallest first so every indexed set is no larger than the probing one.
  const order = sets.map((_, index) => index).filter((index) => sets[index].length > 0);
  order.sort((left, right) => sets[left].length - sets[right].length || left - right);

  // Indexed by shingle rank; only prefix shingles ever get a list.
  const postings: (number[] | undefined)[] = new Array(vocabulary);
  const postingStart = new Int32Array(vocabulary);
  const seenStamp = new Int32Array(sets.length).fill(-1);
  let verifiedPairs = 0;

  // Sets are probed in increasing size, so an indexed set y is never larger than a later probe x
  // and J(x, y) ≥ t needs an overlap ≥ 2t/(1+t)·|y|: indexing y's shorter "mid-prefix" suffices.
  const indexFraction = (2 * threshold) / (1 + threshold);
  for (const probe of order) {
    const probeSet = sets[probe];
    const minimumSize = Math.ceil(threshold * probeSet.length - 1e-9);
    const probePrefixLength = probeSet.length - minimumSize + 1;
    for (let position = 0; position < probePrefixLength; position++) {
      const token = probeSet[position];
      const list = postings[token];
      if (!list) continue;
      // Lists grow in size order: advance past sets too small to ever match again (length filter).
      let start = postingStart[token];
      while (start < list.length && sets[list[start]].length < minimumSize) start++;
      postingStart[token] = start;
      for (let cursor = start; cursor < list.length; cursor++) {
        const candidate = list[cursor];
        if (seenStamp[candidate] === probe) continue;
        seenStamp[candidate] = probe;
        if (flagged[probe] && flagged[candidate]) continue;
        verifiedPairs++;
        if (exceedsJaccard(probeSet, sets[candidate], threshold)) {
          flagged[probe] = true;
          flagged[candidate] = true;
        }
      }
    }
    const indexPrefixLength = probeSet.length - Math.ceil(indexFraction * probeSet.length - 1e-9) + 1;
    for (let position = 0; position < indexPrefixLength; position++) {
      const token = probeSet[position];
      const list = postings[token];
      if (list) list.push(probe);
      else postings[token] = [probe];
    }
  }
  return { flagged, verifiedPairs };
}

/**
 * Whether the Jaccard of two ascending integer sets is strictly above `threshold`: a merge that
 * stops as soon as the overlap still needed (J > t ⇔ overlap > t/(1+t)·(|x|+|y|)) is out of reach.
 */
function exceedsJaccard(left: Int32Array, right: Int32Array, threshold: number): boolean {
  const needed = (threshold / (1 + threshold)) * (left.length + right.length);
  let shared = 0;
  let leftIndex = 0;
  let rightIndex = 0;
  while (leftIndex < left.length && rightIndex < right.length) {
    // Conservative by 1e-9 so float rounding never stops a pair that the exact ratio below would keep.
    if (shared + Math.min(left.length - leftIndex, right.length - rightIndex) < needed - 1e-9) return false;
    if (left[leftIndex] === right[rightIndex]) {
      shared++;
      leftIndex++;
      rightIndex++;
    } else if (left[leftIndex] < right[rightIndex]) leftIndex++;
    else rightIndex++;
  }
  return shared / (left.length + right.length - shared) > threshold;
}
