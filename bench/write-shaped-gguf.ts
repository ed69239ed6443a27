/**
 * Writes a random-weight GGUF with the exact shape of the embedded default model, Qwen2.5-0.5B
 * (24 layers, hidden 896, 14 heads, 2 KV heads, FFN 4,864, vocabulary 151,936, rope base 1e6,
 * tied output embedding), with Q8_0 weights (~530 MB). Random weights cost the same time per
 * token as trained ones; the real Q4_K_M file stores most of these matrices as Q5_0/Q8_0 (896 is
 * not a multiple of 256), so speed is within ~10% (shared/docs/TOOLING.md).
 *
 * Vocabulary: SPM byte fallback plus word pieces of the project's English text
 * (`wordPieces(projectText())` from scripts/write-tiny-gguf.ts), the ChatML control tokens, and
 * padding to the full size with tokens of type UNUSED (CONTROL would make tokenizing
 * pathologically slow). The bench only times evaluation, so no logit bias is baked in.
 *
 * Usage: `npx tsx bench/write-shaped-gguf.ts OUT.gguf`
 */
import { open } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  ByteWriter,
  projectText,
  spmVocabulary,
  TOKEN_TYPE,
  wordPieces,
  writeMetadata,
  type MetadataValue,
} from '../scripts/write-tiny-gguf.ts';

export const QWEN_05B_SHAPE = {
  layers: 24,
  hidden: 896,
  heads: 14,
  kvHeads: 2,
  feedForward: 4864,
  vocabulary: 151_936,
  contextLength: 32_768,
  ropeBase: 1_000_000,
} as const;

const ALIGNMENT = 32;
const GGML_TYPE = { f32: 0, q8_0: 8 } as const;
const Q8_0_BLOCK = 32;
const Q8_0_BLOCK_BYTES = 34;
/** Weight scale so random int8 values (std ≈ 74) give weights of std ≈ 0.02. */
const Q8_0_SCALE = 0.02 / 74;

const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

interface TensorSpec {
  name: string;
  dims: number[];
  type: keyof typeof GGML_TYPE;
}

function float16Bits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const mantissa = (bits >>> 13) & 0x3ff;
  if (exponent <= 0) return sign;
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | mantissa;
}

function tensorBytes(spec: TensorSpec): number {
  const count = spec.dims.reduce((product, dim) => product * dim, 1);
  return spec.type === 'f32' ? count * 4 : (count / Q8_0_BLOCK) * Q8_0_BLOCK_BYTES;
}

function tensorSpecs(): TensorSpec[] {
  const { layers, hidden, heads, kvHeads, feedForward, vocabulary } = QWEN_05B_SHAPE;
  const kvWidth = (hidden / heads) * kvHeads;
  const specs: TensorSpec[] = [
    { name: 'token_embd.weight', dims: [hidden, vocabulary], type: 'q8_0' },
    { name: 'output_norm.weight', dims: [hidden], type: 'f32' },
  ];
  for (let layer = 0; layer < layers; layer++) {
    const prefix = `blk.${layer}`;
    specs.push(
      { name: `${prefix}.attn_norm.weight`, dims: [hidden], type: 'f32' },
      { name: `${prefix}.attn_q.weight`, dims: [hidden, hidden], type: 'q8_0' },
      { name: `${prefix}.attn_k.weight`, dims: [hidden, kvWidth], type: 'q8_0' },
      { name: `${prefix}.attn_v.weight`, dims: [hidden, kvWidth], type: 'q8_0' },
      { name: `${prefix}.attn_output.weight`, dims: [hidden, hidden], type: 'q8_0' },
      { name: `${prefix}.ffn_norm.weight`, dims: [hidden], type: 'f32' },
      { name: `${prefix}.ffn_gate.weight`, dims: [hidden, feedForward], type: 'q8_0' },
      { name: `${prefix}.ffn_up.weight`, dims: [hidden, feedForward], type: 'q8_0' },
      { name: `${prefix}.ffn_down.weight`, dims: [feedForward, hidden], type: 'q8_0' },
    );
  }
  return specs;
}

/** Random Q8_0 blocks (fixed scale, random int8), or F32 ones for norms. */
function tensorData(spec: TensorSpec): Buffer {
  const bytes = Buffer.alloc(tensorBytes(spec));
  if (spec.type === 'f32') {
    for (let offset = 0; offset < bytes.length; offset += 4) bytes.writeFloatLE(1, offset);
    return bytes;
  }
  randomFillSync(bytes);
  const scale = float16Bits(Q8_0_SCALE);
  for (let offset = 0; offset < bytes.length; offset += Q8_0_BLOCK_BYTES) bytes.writeUInt16LE(scale, offset);
  return bytes;
}

/** The shaped model's vocabulary: word pieces, ChatML control tokens, UNUSED padding. */
export async function shapedVocabulary() {
  const vocabulary = spmVocabulary(wordPieces(await projectText()));
  const imStart = vocabulary.tokens.length;
  for (const token of ['<|im_start|>', '<|im_end|>']) {
    vocabulary.tokens.push(token);
    vocabulary.scores.push(0);
    vocabulary.types.push(TOKEN_TYPE.control);
  }
  for (let index = vocabulary.tokens.length; index < QWEN_05B_SHAPE.vocabulary; index++) {
    vocabulary.tokens.push(`<unused${index}>`);
    vocabulary.scores.push(0);
    vocabulary.types.push(TOKEN_TYPE.unused);
  }
  return { ...vocabulary, imStart, imEnd: imStart + 1 };
}

/** Writes the shaped model to `path`, streaming the ~530 MB of tensors. */
export async function writeShapedGguf(path: string): Promise<void> {
  const shape = QWEN_05B_SHAPE;
  const vocabulary = await shapedVocabulary();
  const metadata: [string, MetadataValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: 'persona-forge-qwen2.5-0.5b-shaped-random' }],
    ['general.file_type', { type: 'uint32', value: 7 }],
    ['general.alignment', { type: 'uint32', value: ALIGNMENT }],
    ['llama.context_length', { type: 'uint32', value: shape.contextLength }],
    ['llama.embedding_length', { type: 'uint32', value: shape.hidden }],
    ['llama.block_count', { type: 'uint32', value: shape.layers }],
    ['llama.feed_forward_length', { type: 'uint32', value: shape.feedForward }],
    ['llama.attention.head_count', { type: 'uint32', value: shape.heads }],
    ['llama.attention.head_count_kv', { type: 'uint32', value: shape.kvHeads }],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'float32', value: 1e-6 }],
    ['llama.rope.dimension_count', { type: 'uint32', value: shape.hidden / shape.heads }],
    ['llama.rope.freq_base', { type: 'float32', value: shape.ropeBase }],
    ['llama.vocab_size', { type: 'uint32', value: shape.vocabulary }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', itemType: 'string', value: vocabulary.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', itemType: 'float32', value: vocabulary.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', itemType: 'int32', value: vocabulary.types }],
    ['tokenizer.ggml.unknown_token_id', { type: 'uint32', value: 0 }],
    ['tokenizer.ggml.bos_token_id', { type: 'uint32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'uint32', value: vocabulary.imEnd }],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
    ['tokenizer.chat_template', { type: 'string', value: CHATML_TEMPLATE }],
  ];
  const specs = tensorSpecs();
  const header = new ByteWriter();
  header.push(Buffer.from('GGUF', 'ascii'));
  header.u32(3);
  header.u64(specs.length);
  header.u64(metadata.length);
  for (const [key, entry] of metadata) writeMetadata(header, key, entry);
  let offset = 0;
  for (const spec of specs) {
    header.string(spec.name);
    header.u32(spec.dims.length);
    for (const dim of spec.dims) header.u64(dim);
    header.u32(GGML_TYPE[spec.type]);
    header.u64(offset);
    offset += Math.ceil(tensorBytes(spec) / ALIGNMENT) * ALIGNMENT;
  }
  header.padTo(ALIGNMENT);

  const file = await open(path, 'w');
  try {
    await file.write(header.toBuffer());
    for (const spec of specs) {
      const data = tensorData(spec);
      const padding = (ALIGNMENT - (data.length % ALIGNMENT)) % ALIGNMENT;
      await file.write(padding ? Buffer.concat([data, Buffer.alloc(padding)]) : data);
    }
  } finally {
    await file.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2];
  if (!path) throw new Error('Usage: npx tsx bench/write-shaped-gguf.ts OUT.gguf');
  await writeShapedGguf(path);
  console.log(`Wrote ${path}`);
}
