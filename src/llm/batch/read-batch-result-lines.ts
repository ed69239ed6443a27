import type OpenAI from 'openai';

/** One line of a Batch API output or error file. */
export interface ResultLine {
  custom_id: string;
  response?: { status_code: number; request_id?: string; body: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/** The lines of a finished batch's output and error files (either may be absent), by custom id. */
export async function readBatchResultLines(
  client: OpenAI,
  fileIds: Array<string | null | undefined>,
): Promise<Map<string, ResultLine>> {
  const lines = new Map<string, ResultLine>();
  for (const fileId of fileIds) {
    if (!fileId) continue;
    const text = await (await client.files.content(fileId)).text();
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      const line = JSON.parse(raw) as ResultLine;
      lines.set(line.custom_id, line);
    }
  }
  return lines;
}
