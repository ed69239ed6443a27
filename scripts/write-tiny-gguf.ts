/**
 * Writes a tiny random-weight GGUF model (~470 KB) for tests: no model can be downloaded on CI.
 *
 * Usage: `tsx scripts/write-tiny-gguf.ts OUT.gguf [--seed N]`
 *
 * Recipe (../shared/docs/TOOLING.md): GGUF v3, `llama` architecture, all F32, 2 layers, n_embd 64,
 * 4 heads, n_ff 128; a 260-token SPM vocabulary (`<unk>`, `<s>`, `</s>`, the 256 byte-fallback
 * tokens `<0x00>`…`<0xFF>` with token type 6, and `▁`); a chat template that ends every message
 * with the EOS token (otherwise a newline ends the reply). Random weights alone rarely give valid
 * JSON (high bytes decode to invalid UTF-8), so one embedding dimension carries a constant feature
 * that no layer writes to, and `output.weight` reads it as a per-token bias favouring printable
 * ASCII and the JSON closers `" , } ]`. Same seed, same bytes.
 */
import { writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createRandom, type Random } from '../src/util/create-random.ts';

const EMBEDDING_LENGTH = 64;
const LAYER_COUNT = 2;
const HEAD_COUNT = 4;
const FEED_FORWARD_LENGTH = 128;
/** Long enough for whole generator prompts: the byte-level vocabulary needs one token per byte. */
const CONTEXT_LENGTH = 32768;
/** The residual-stream dimension that holds the constant bias feature. */
const BIAS_DIMENSION = EMBEDDING_LENGTH - 1;
const BIAS_FEATURE_VALUE = 4;
const WEIGHT_STD = 0.08;
/** Small, so the bias feature decides the ranking of tokens (noise in logits ~0.1 vs bias steps ~0.5). */
const OUTPUT_WEIGHT_STD = 0.02;
const ALIGNMENT = 32;

const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;
const UNKNOWN_TOKEN_ID = 0;
const BOS_TOKEN_ID = 1;
const EOS_TOKEN_ID = 2;
const FIRST_BYTE_TOKEN_ID = 3;
const SPACE_TOKEN_ID = FIRST_BYTE_TOKEN_ID + 256;
const VOCABULARY_SIZE = SPACE_TOKEN_ID + 1;

export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}";

/**
 * Logit bias per token id, read through the constant feature (scaled by ~8 after RMS norm).
 * `"` leads, then the closers `}` `]`, then `,`: even greedy decoding closes strings, arrays and
 * objects at once, so grammar-constrained replies finish well inside small token limits.
 */
function tokenBias(tokenId: number): number {
  if (tokenId === EOS_TOKEN_ID) return 0.1;
  if (tokenId === SPACE_TOKEN_ID) return 0.35;
  if (tokenId < FIRST_BYTE_TOKEN_ID) return -2;
  const character = String.fromCharCode(tokenId - FIRST_BYTE_TOKEN_ID);
  if (character === '"') return 0.8;
  if (character === '}' || character === ']') return 0.7;
  if (character === ',') return 0.5;
  if (character >= '!' && character <= '~') return 0.3;
  return -2;
}

// GGUF value types.
const GGUF_TYPE = { uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9 } as const;

type MetadataValue =
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

class ByteWriter {
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

function writeMetadata(writer: ByteWriter, key: string, entry: MetadataValue): void {
  writer.string(key);
  writer.u32(GGUF_TYPE[entry.type]);
  if (entry.type === 'bool') writer.push(Buffer.from([entry.value ? 1 : 0]));
  else if (entry.type === 'array') {
    writer.u32(GGUF_TYPE[entry.itemType]);
    writer.u64(entry.value.length);
    for (const item of entry.value) writeScalar(writer, entry.itemType, item);
  } else writeScalar(writer, entry.type, entry.value);
}

function vocabulary(): { tokens: string[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  tokens.push('\u2581');
  types.push(TOKEN_TYPE.normal);
  return { tokens, types };
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

function tensors(seed: number): Tensor[] {
  const random = createRandom(seed);
  const ones = (length: number) => new Float32Array(length).fill(1);

  const embeddings = randomMatrix(random, VOCABULARY_SIZE * EMBEDDING_LENGTH);
  for (let token = 0; token < VOCABULARY_SIZE; token++) {
    embeddings[token * EMBEDDING_LENGTH + BIAS_DIMENSION] = BIAS_FEATURE_VALUE;
  }
  const output = randomMatrix(random, VOCABULARY_SIZE * EMBEDDING_LENGTH, OUTPUT_WEIGHT_STD);
  for (let token = 0; token < VOCABULARY_SIZE; token++) {
    output[token * EMBEDDING_LENGTH + BIAS_DIMENSION] = tokenBias(token);
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
export function tinyGgufBytes(seed: number): Buffer {
  const { tokens, types } = vocabulary();
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'persona-forge-tiny-test' }],
    ['general.file_type', { type: 'uint32', value: 0 }],
    ['general.alignment', { type: 'uint32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'uint32', value: CONTEXT_LENGTH }],
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
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: tokens.map(() => 0) }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: UNKNOWN_TOKEN_ID }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: BOS_TOKEN_ID }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: EOS_TOKEN_ID }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: TINY_CHAT_TEMPLATE }],
  ];
  const modelTensors = tensors(seed);

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

/** Writes the tiny test model to `path`; the same seed writes the same bytes. */
export async function writeTinyGguf(path: string, seed = 1): Promise<void> {
  await writeFile(path, tinyGgufBytes(seed));
}

function parseArguments(argv: string[]): { path: string; seed: number } {
  const positional: string[] = [];
  let seed = 1;
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === '--seed') {
      seed = Number(argv[++index]);
      if (!Number.isInteger(seed) || seed < 0)
        throw new Error(`Expected \`--seed\` to be a non-negative integer, got ${argv[index]}.`);
    } else positional.push(argv[index]);
  }
  if (positional.length !== 1) throw new Error('Usage: tsx scripts/write-tiny-gguf.ts OUT.gguf [--seed N]');
  return { path: positional[0], seed };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { path, seed } = parseArguments(process.argv.slice(2));
  await writeTinyGguf(path, seed);
  console.log(`Wrote ${path} (seed ${seed})`);
}
