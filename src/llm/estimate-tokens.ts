/** Rough token count for endpoints that report no usage: ~4 characters per token (English text). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
