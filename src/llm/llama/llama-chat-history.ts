import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatMessage } from '../llm-backend.ts';

/**
 * Converts port messages to node-llama-cpp chat history. The history must end with a model item,
 * which the model continues: an empty one is appended unless the last message is from the
 * assistant (then the reply continues that text, like a prefill).
 */
export function toLlamaChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message) => {
    if (message.role === 'system') return { type: 'system', text: message.content };
    if (message.role === 'user') return { type: 'user', text: message.content };
    return { type: 'model', response: [message.content] };
  });
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
