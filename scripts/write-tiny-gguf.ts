/**
 * Writes a tiny random-weight GGUF model (~470 KB) for tests: no model can be downloaded on CI.
 *
 * Usage: `tsx scripts/write-tiny-gguf.ts OUT.gguf [--seed N] [--context-length N] [--words]`
 *
 * `--words` (option `vocabulary: 'words'`) adds a word-level vocabulary built from the project's
 * own English text (seeds, prompt template, critics; see `wordPieces`): prompts then tokenize at
 * ~0.27 tokens per character like a real model's, so a small `--context-length` (e.g. 2048)
 * behaves as it would on a real model with that context.
 *
 * Recipe (../shared/docs/TOOLING.md): GGUF v3, `llama` architecture, all F32, 2 layers, n_embd 64,
 * 4 heads, n_ff 128; a 260-token SPM vocabulary (`<unk>`, `<s>`, `</s>`, the 256 byte-fallback
 * tokens `<0x00>`…`<0xFF>` with token type 6, and `▁`); a chat template that ends every message
 * with the EOS token (otherwise a newline ends the reply). Random weights alone rarely give valid
 * JSON (high bytes decode to invalid UTF-8), so one embedding dimension carries a constant feature
 * that no layer writes to, and `output.weight` reads it as a per-token bias favouring printable
 * ASCII and the JSON closers `" , } ]`. Same seed, same bytes.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRandom, type Random } from '../src/util/create-random.ts';

const EMBEDDING_LENGTH = 64;
const LAYER_COUNT = 2;
const HEAD_COUNT = 4;
const FEED_FORWARD_LENGTH = 128;
/** Long enough for whole generator prompts: the byte-level vocabulary needs one token per byte. */
const DEFAULT_CONTEXT_LENGTH = 32768;
/** The residual-stream dimension that holds the constant bias feature. */
const BIAS_DIMENSION = EMBEDDING_LENGTH - 1;
const BIAS_FEATURE_VALUE = 4;
const WEIGHT_STD = 0.08;
/** Small, so the bias feature decides the ranking of tokens (noise in logits ~0.1 vs bias steps ~0.5). */
const OUTPUT_WEIGHT_STD = 0.02;
const ALIGNMENT = 32;

export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, unused: 5, byte: 6 } as const;
const UNKNOWN_TOKEN_ID = 0;
const BOS_TOKEN_ID = 1;
const EOS_TOKEN_ID = 2;
const FIRST_BYTE_TOKEN_ID = 3;
const SPACE_TOKEN_ID = FIRST_BYTE_TOKEN_ID + 256;
const FIRST_PIECE_TOKEN_ID = SPACE_TOKEN_ID + 1;

/** Options of `tinyGgufBytes` / `writeTinyGguf`. */
export interface TinyGgufOptions {
  /** Random-weight seed; the same seed writes the same bytes. @defaultValue 1 */
  seed?: number;
  /** Training context written into the file (`llama.context_length`). @defaultValue 32768 */
  contextLength?: number;
  /** `bytes`: 260 tokens, one per byte; `words`: plus word pieces of the project's text. @defaultValue 'bytes' */
  vocabulary?: 'bytes' | 'words';
}

export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

/**
 * Logit bias per token id, read through the constant feature (scaled by ~8 after RMS norm).
 * `"` leads, then the closers `}` `]`, then `,`: even greedy decoding closes strings, arrays and
 * objects at once, so grammar-constrained replies finish well inside small token limits.
 */
function tokenBias(tokenId: number, piece: string): number {
  if (tokenId === EOS_TOKEN_ID) return 0.1;
  if (tokenId === SPACE_TOKEN_ID) return 0.35;
  if (tokenId < FIRST_BYTE_TOKEN_ID) return -2;
  if (tokenId >= FIRST_PIECE_TOKEN_ID) return piece.length === 1 ? byteBias(piece) : 0.3;
  return byteBias(String.fromCharCode(tokenId - FIRST_BYTE_TOKEN_ID));
}

function byteBias(character: string): number {
  if (character === '"') return 0.8;
  if (character === '}' || character === ']') return 0.7;
  if (character === ',') return 0.5;
  if (character >= '!' && character <= '~') return 0.3;
  return -2;
}

// GGUF value types.
const GGUF_TYPE = { uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9 } as const;

export type MetadataValue =
  | { type: 'uint32' | 'int32' | 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; itemType: 'int32' | 'float32' | 'string'; value: (number | string)[] };

interface Tensor {
  name: string;
  /** ggml order: dims[0] is the contiguous (input) dimension. */
  dims: number[];
  data: Float32Array;
}

/** Little-endian GGUF byte writer (also used by bench/write-shaped-gguf.ts). */
export class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;
  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }
  u32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    this.push(buffer);
  }
  i32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32LE(value);
    this.push(buffer);
  }
  u64(value: number): void {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(BigInt(value));
    this.push(buffer);
  }
  f32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeFloatLE(value);
    this.push(buffer);
  }
  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }
  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    if (padding) this.push(Buffer.alloc(padding));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeScalar(
  writer: ByteWriter,
  type: 'uint32' | 'int32' | 'float32' | 'string',
  value: number | string,
): void {
  if (type === 'uint32') writer.u32(value as number);
  else if (type === 'int32') writer.i32(value as number);
  else if (type === 'float32') writer.f32(value as number);
  else writer.string(value as string);
}

export function writeMetadata(writer: ByteWriter, key: string, entry: MetadataValue): void {
  writer.string(key);
  writer.u32(GGUF_TYPE[entry.type]);
  if (entry.type === 'bool') writer.push(Buffer.from([entry.value ? 1 : 0]));
  else if (entry.type === 'array') {
    writer.u32(GGUF_TYPE[entry.itemType]);
    writer.u64(entry.value.length);
    for (const item of entry.value) writeScalar(writer, entry.itemType, item);
  } else writeScalar(writer, entry.type, entry.value);
}

/** SPM vocabulary: tokens, scores (merge priority) and token types. */
export interface SpmVocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
}

/**
 * `<unk>`, `<s>`, `</s>`, the 256 byte-fallback tokens and `▁`, then `pieces` (score = length,
 * so the SPM tokenizer merges into the longest piece it knows).
 */
export function spmVocabulary(pieces: readonly string[] = []): SpmVocabulary {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  tokens.push('\u2581');
  types.push(TOKEN_TYPE.normal);
  const known = new Set(tokens);
  for (const piece of pieces) {
    if (known.has(piece)) continue;
    known.add(piece);
    tokens.push(piece);
    types.push(TOKEN_TYPE.normal);
  }
  const scores = tokens.map((token, index) => (index < FIRST_PIECE_TOKEN_ID ? 0 : [...token].length));
  return { tokens, scores, types };
}

/**
 * Word pieces of English `text` for an SPM vocabulary: every printable ASCII character, and
 * every prefix of each word (letters, or digits) after `▁` (SentencePiece's space). A word-level
 * vocabulary like this tokenizes English at ~0.27 tokens per character (a real BPE ~0.25).
 */
export function wordPieces(text: string): string[] {
  const pieces = new Set<string>();
  for (let code = 0x21; code <= 0x7e; code++) pieces.add(String.fromCharCode(code));
  for (const [word] of text.matchAll(/[A-Za-z]+|[0-9]+/g)) {
    for (let end = 1; end <= word.length; end++) pieces.add(`\u2581${word.slice(0, end)}`);
  }
  return [...pieces].sort();
}

/** English text of this repository (seed conversations and attributes, prompt template, critics). */
export async function projectText(): Promise<string> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const files = [
    'seeds/conversations.jsonl',
    'seeds/attributes.jsonl',
    'src/generation/generator-prompt.md',
    ...(await readdir(join(root, 'critics'))).filter((name) => name.endsWith('.md')).map((name) => `critics/${name}`),
  ];
  return (await Promise.all(files.map((file) => readFile(join(root, file), 'utf8')))).join('\n');
}

function gaussian(random: Random): number {
  // Box–Muller; 1 - random() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function randomMatrix(random: Random, size: number, std = WEIGHT_STD): Float32Array {
  const data = new Float32Array(size);
  for (let index = 0; index < size; index++) data[index] = gaussian(random) * std;
  return data;
}

/** A matrix that writes into the residual stream: its output row for the bias dimension stays zero. */
function residualWriter(random: Random, inputLength: number): Float32Array {
  const data = randomMatrix(random, inputLength * EMBEDDING_LENGTH);
  data.fill(0, BIAS_DIMENSION * inputLength, (BIAS_DIMENSION + 1) * inputLength);
  return data;
}

function tensors(seed: number, vocabulary: SpmVocabulary): Tensor[] {
  const random = createRandom(seed);
  const VOCABULARY_SIZE = vocabulary.tokens.length;
  const ones = (length: number) => new Float32Array(length).fill(1);

  const embeddings = randomMatrix(random, VOCABULARY_SIZE * EMBEDDING_LENGTH);
  for (let token = 0; token < VOCABULARY_SIZE; token++) {
    embeddings[token * EMBEDDING_LENGTH + BIAS_DIMENSION] = BIAS_FEATURE_VALUE;
  }
  const output = randomMatrix(random, VOCABULARY_SIZE * EMBEDDING_LENGTH, OUTPUT_WEIGHT_STD);
  for (let token = 0; token < VOCABULARY_SIZE; token++) {
    output[token * EMBEDDING_LENGTH + BIAS_DIMENSION] = tokenBias(token, vocabulary.tokens[token]);
  }

  const result: Tensor[] = [
    { name: 'token_embd.weight', dims: [EMBEDDING_LENGTH, VOCABULARY_SIZE], data: embeddings },
    { name: 'output_norm.weight', dims: [EMBEDDING_LENGTH], data: ones(EMBEDDING_LENGTH) },
    { name: 'output.weight', dims: [EMBEDDING_LENGTH, VOCABULARY_SIZE], data: output },
  ];
  const square = EMBEDDING_LENGTH * EMBEDDING_LENGTH;
  for (let layer = 0; layer < LAYER_COUNT; layer++) {
    const prefix = `blk.${layer}`;
    result.push(
      { name: `${prefix}.attn_norm.weight`, dims: [EMBEDDING_LENGTH], data: ones(EMBEDDING_LENGTH) },
      {
        name: `${prefix}.attn_q.weight`,
        dims: [EMBEDDING_LENGTH, EMBEDDING_LENGTH],
        data: randomMatrix(random, square),
      },
      {
        name: `${prefix}.attn_k.weight`,
        dims: [EMBEDDING_LENGTH, EMBEDDING_LENGTH],
        data: randomMatrix(random, square),
      },
      {
        name: `${prefix}.attn_v.weight`,
        dims: [EMBEDDING_LENGTH, EMBEDDING_LENGTH],
        data: randomMatrix(random, square),
      },
      {
        name: `${prefix}.attn_output.weight`,
        dims: [EMBEDDING_LENGTH, EMBEDDING_LENGTH],
        data: residualWriter(random, EMBEDDING_LENGTH),
      },
      { name: `${prefix}.ffn_norm.weight`, dims: [EMBEDDING_LENGTH], data: ones(EMBEDDING_LENGTH) },
      {
        name: `${prefix}.ffn_gate.weight`,
        dims: [EMBEDDING_LENGTH, FEED_FORWARD_LENGTH],
        data: randomMatrix(random, EMBEDDING_LENGTH * FEED_FORWARD_LENGTH),
      },
      {
        name: `${prefix}.ffn_up.weight`,
        dims: [EMBEDDING_LENGTH, FEED_FORWARD_LENGTH],
        data: randomMatrix(random, EMBEDDING_LENGTH * FEED_FORWARD_LENGTH),
      },
      {
        name: `${prefix}.ffn_down.weight`,
        dims: [FEED_FORWARD_LENGTH, EMBEDDING_LENGTH],
        data: residualWriter(random, FEED_FORWARD_LENGTH),
      },
    );
  }
  return result;
}

/** The tiny model as GGUF bytes. */
export async function tinyGgufBytes(options: TinyGgufOptions = {}): Promise<Buffer> {
  const seed = options.seed ?? 1;
  const vocabulary = spmVocabulary(options.vocabulary === 'words' ? wordPieces(await projectText()) : []);
  const { tokens, types, scores } = vocabulary;
  const VOCABULARY_SIZE = tokens.length;
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'persona-forge-tiny-test' }],
    ['general.file_type', { type: 'uint32', value: 0 }],
    ['general.alignment', { type: 'uint32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'uint32', value: options.contextLength ?? DEFAULT_CONTEXT_LENGTH }],
    ['llama.embedding_length', { type: 'uint32', value: EMBEDDING_LENGTH }],
    ['llama.block_count', { type: 'uint32', value: LAYER_COUNT }],
    ['llama.feed_forward_length', { type: 'uint32', value: FEED_FORWARD_LENGTH }],
    ['llama.attention.head_count', { type: 'uint32', value: HEAD_COUNT }],
    ['llama.attention.head_count_kv', { type: 'uint32', value: HEAD_COUNT }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: 1e-5 }],
    ['llama.rope.dimension_count', { type: 'uint32', value: EMBEDDING_LENGTH / HEAD_COUNT }],
    ['llama.vocab_size', { type: 'uint32', value: VOCABULARY_SIZE }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: UNKNOWN_TOKEN_ID }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: BOS_TOKEN_ID }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: EOS_TOKEN_ID }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: TINY_CHAT_TEMPLATE }],
  ];
  const modelTensors = tensors(seed, vocabulary);

  const header = new ByteWriter();
  header.push(Buffer.from('GGUF', 'ascii'));
  header.u32(3);
  header.u64(modelTensors.length);
  header.u64(metadata.length);
  for (const [key, entry] of metadata) writeMetadata(header, key, entry);

  let offset = 0;
  for (const tensor of modelTensors) {
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(0); // GGML_TYPE_F32
    header.u64(offset);
    offset += Math.ceil(tensor.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  header.padTo(ALIGNMENT);

  for (const tensor of modelTensors) {
    header.push(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    header.padTo(ALIGNMENT);
  }
  return header.toBuffer();
}

/** Writes the tiny test model to `path`; the same options write the same bytes. */
export async function writeTinyGguf(path: string, options: TinyGgufOptions = {}): Promise<void> {
  await writeFile(path, await tinyGgufBytes(options));
}

function parseArguments(argv: string[]): { path: string; options: TinyGgufOptions } {
  const positional: string[] = [];
  const options: TinyGgufOptions = {};
  const integer = (flag: string, text: string | undefined, minimum: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < minimum)
      throw new Error(`Expected \`${flag}\` to be an integer ≥ ${minimum}, got ${text}.`);
    return value;
  };
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === '--seed') options.seed = integer('--seed', argv[++index], 0);
    else if (argv[index] === '--context-length') options.contextLength = integer('--context-length', argv[++index], 16);
    else if (argv[index] === '--words') options.vocabulary = 'words';
    else positional.push(argv[index]);
  }
  if (positional.length !== 1) {
    throw new Error('Usage: tsx scripts/write-tiny-gguf.ts OUT.gguf [--seed N] [--context-length N] [--words]');
  }
  return { path: positional[0], options };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { path, options } = parseArguments(process.argv.slice(2));
  await writeTinyGguf(path, options);
  console.log(`Wrote ${path} (${JSON.stringify(options)})`);
}
