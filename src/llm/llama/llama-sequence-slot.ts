import type { LlamaChat, LlamaContextSequence, Token } from 'node-llama-cpp';

/** Below this many shared tokens a KV copy saves too little to be worth the context lock it takes. */
export const MIN_SHARED_TOKENS = 16;

/**
 * `LlamaContextSequence._copyStateFromOtherSequence(other, upToTokenIndex)`: node-llama-cpp
 * 3.22's own KV-cache fork (`llama_memory_seq_cp` under the context lock, then the tail past
 * `upToTokenIndex` erased), used by its `LlamaDecisionContext`. It is marked internal, so it is
 * looked up at run time: without it, every sequence evaluates its own prompt.
 */
interface ForkableSequence {
  _copyStateFromOtherSequence?: (other: LlamaContextSequence, upToTokenIndex: number) => Promise<boolean>;
}

/** Length of the common prefix of two token lists. */
export function commonPrefixLength(left: readonly Token[], right: readonly Token[]): number {
  const length = Math.min(left.length, right.length);
  let index = 0;
  while (index < length && left[index] === right[index]) index++;
  return index;
}

/**
 * One context sequence of the llama backend with the one `LlamaChat` that generates on it, and
 * the prompt prefix it is evaluating right now (so another request can wait for it and copy it
 * instead of evaluating the same tokens again).
 */
export class LlamaSequenceSlot {
  private prefilling: { tokens: readonly Token[]; done: Promise<void> } | undefined;

  constructor(
    readonly sequence: LlamaContextSequence,
    readonly chat: LlamaChat,
  ) {}

  /** Tokens in this sequence's KV cache, or those it will hold once the prefill under way ends. */
  get plannedTokens(): readonly Token[] {
    return this.prefilling?.tokens ?? this.sequence.contextTokens;
  }

  /** Tokens decoded on this sequence so far (node-llama-cpp's meter: input + output). */
  get decodedTokens(): number {
    const meter = this.sequence.tokenMeter;
    return meter.usedInputTokens + meter.usedOutputTokens;
  }

  /**
   * Brings all prompt tokens but the last into this sequence's KV cache as cheaply as it can: it
   * keeps the prefix it already holds, copies a longer one from another slot (waiting for that
   * slot's prefill if it is still running) and evaluates only the rest. The last token is left
   * for `LlamaChat`, which needs its logits to sample the first reply token.
   */
  async loadPrefix(tokens: readonly Token[], others: readonly LlamaSequenceSlot[]): Promise<void> {
    const target = tokens.length - 1;
    if (target <= 0) return;
    let held = Math.min(commonPrefixLength(this.sequence.contextTokens, tokens), target);

    const fork = (this.sequence as unknown as ForkableSequence)._copyStateFromOtherSequence;
    let donor: LlamaSequenceSlot | undefined;
    let donorShare = held + MIN_SHARED_TOKENS;
    for (const other of others) {
      if (other === this) continue;
      const share = Math.min(commonPrefixLength(other.plannedTokens, tokens), target);
      if (share >= donorShare) [donor, donorShare] = [other, share];
    }
    if (donor && typeof fork === 'function') {
      await donor.prefilling?.done.catch(() => {});
      const share = Math.min(commonPrefixLength(donor.sequence.contextTokens, tokens), target);
      if (share >= held + MIN_SHARED_TOKENS) {
        // Emptied first: a copy into a sequence that still holds cells could leave stale ones.
        await this.sequence.clearHistory();
        if (await fork.call(this.sequence, donor.sequence, share)) held = share;
        else {
          await this.sequence.clearHistory();
          held = 0;
        }
      }
    }
    if (held >= target) return;

    const prefix = tokens.slice(0, target);
    const done = (async () => {
      await this.sequence.adaptStateToTokens(prefix as Token[], false);
      await this.sequence.evaluateWithoutGeneratingNewTokens(prefix.slice(this.sequence.nextTokenIndex) as Token[]);
    })();
    this.prefilling = { tokens: prefix, done };
    try {
      await done;
    } finally {
      this.prefilling = undefined;
    }
  }
}
