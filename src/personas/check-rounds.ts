/** True when `candidate` contradicts `profile` (an LLM contradiction check). */
export type RoundCheck = (profile: string[], candidate: string) => Promise<boolean>;

interface WaitingCheck {
  profile: string[];
  candidate: string;
  resolve: (contradicts: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Asks the contradiction checks of profiles built together in rounds (batch mode, `--batch`):
 * a round is released once every profile still being built has asked its next check, and its
 * checks are handed to `check` in profile order, in one turn of the event loop. So each round is
 * one Batch API batch, and which checks share a call (`createBatchedContradictionCheck` groups
 * those asked in one turn) depends only on the answers, never on reply timing: a restarted run
 * asks the very same requests and re-attaches to the batch that holds them.
 *
 * Every participant (0 … `participants` − 1) must call `leave` once it asks no more checks
 * (finished, or failed), or the round it would have joined waits for it forever.
 */
export class CheckRounds {
  /** Rounds released so far. */
  rounds = 0;
  private live: number;
  private readonly waiting = new Map<number, WaitingCheck>();
  private readonly left = new Set<number>();

  constructor(
    private readonly check: RoundCheck,
    participants: number,
  ) {
    if (!Number.isInteger(participants) || participants < 0) {
      throw new RangeError(`Expected \`participants\` to be a non-negative integer, got ${participants}.`);
    }
    this.live = participants;
  }

  /** Participant `index` asks one check; it is sent with the rest of its round. */
  ask(index: number, profile: string[], candidate: string): Promise<boolean> {
    if (this.waiting.has(index) || this.left.has(index)) {
      throw new Error(`Participant ${index} asked a check while waiting for one, or after leaving.`);
    }
    return new Promise<boolean>((resolve, reject) => {
      this.waiting.set(index, { profile, candidate, resolve, reject });
      this.releaseIfComplete();
    });
  }

  /** Participant `index` asks no more checks. Idempotent. */
  leave(index: number): void {
    if (this.left.has(index)) return;
    this.left.add(index);
    this.live -= 1;
    this.releaseIfComplete();
  }

  private releaseIfComplete(): void {
    if (this.waiting.size === 0 || this.waiting.size < this.live) return;
    const round = [...this.waiting.entries()].sort(([first], [second]) => first - second);
    this.waiting.clear();
    this.rounds += 1;
    for (const [, waiting] of round) {
      let asked: Promise<boolean>;
      try {
        asked = this.check(waiting.profile, waiting.candidate);
      } catch (error) {
        waiting.reject(error);
        continue;
      }
      asked.then(waiting.resolve, waiting.reject);
    }
  }
}
