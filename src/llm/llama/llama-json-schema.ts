/**
 * Rewrites a JSON Schema (draft 2020-12, as `z.toJSONSchema` writes it) into the subset that
 * node-llama-cpp's `createGrammarForJsonSchema` understands:
 * - `anyOf` becomes `oneOf`; a one-element `allOf`/`anyOf`/`oneOf` is inlined;
 * - `definitions` becomes `$defs`, `#/definitions/x` refs become `#/$defs/x`;
 * - a type list with `object`/`array` becomes a `oneOf`;
 * - an integer with bounds at most 100 values apart becomes an `enum` of those values (the
 *   grammar enforces no bounds, and writes exponents like `7E+8` in integers otherwise);
 * - schemas it cannot express (`{}`, `true`, `$ref: "#"`, multi-part `allOf`) become "any JSON value"
 *   — the grammar turns an unrecognised schema into `null`, which is worse than no constraint;
 * - a string without `maxLength` gets `MAX_STRING_LENGTH`, so a reply cannot run to the token
 *   limit inside one string;
 * - keywords it ignores or rejects (`pattern`, `minimum`, `required`, `default`, `propertyNames`,
 *   unknown `format`s…) are dropped.
 * The grammar then forces every listed property to appear, in order. It still cannot enforce
 * bounds or patterns, so callers validate the reply with zod.
 */
export function toLlamaJsonSchema(schema: unknown): Record<string, unknown> {
  return convert(schema);
}

type JsonObject = Record<string, unknown>;

const ANY_JSON: JsonObject = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};
const PRIMITIVE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'date', 'time']);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function withCommon(source: JsonObject, target: JsonObject): JsonObject {
  if (typeof source.description === 'string') target.description = source.description;
  const defs = source.$defs ?? source.definitions;
  if (isObject(defs)) {
    target.$defs = Object.fromEntries(Object.entries(defs).map(([name, definition]) => [name, convert(definition)]));
  }
  return target;
}

function convert(schema: unknown): JsonObject {
  if (!isObject(schema)) return ANY_JSON;

  if (typeof schema.$ref === 'string') {
    const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    return match ? withCommon(schema, { $ref: `#/$defs/${match[1]}` }) : ANY_JSON;
  }
  if ('const' in schema) return isPrimitive(schema.const) ? withCommon(schema, { const: schema.const }) : ANY_JSON;
  if (Array.isArray(schema.enum)) {
    const values = schema.enum.filter(isPrimitive);
    return values.length ? withCommon(schema, { enum: values }) : ANY_JSON;
  }
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    if (alternatives.length === 1) return withCommon(schema, convert(alternatives[0]));
    return withCommon(schema, { oneOf: alternatives.map(convert) });
  }
  if (Array.isArray(schema.allOf)) {
    return schema.allOf.length === 1 ? withCommon(schema, convert(schema.allOf[0])) : ANY_JSON;
  }

  const types = Array.isArray(schema.type) ? schema.type : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length > 1 && types.some((type) => type === 'object' || type === 'array')) {
    return withCommon(schema, { oneOf: types.map((type) => convert({ ...schema, type })) });
  }
  const type = types.length === 1 ? types[0] : undefined;
  if (type === 'object') return withCommon(schema, convertObject(schema));
  if (type === 'array') return withCommon(schema, convertArray(schema));
  if (type === 'string') {
    const result: JsonObject = { type: 'string' };
    if (typeof schema.format === 'string' && STRING_FORMATS.has(schema.format)) result.format = schema.format;
    else {
      if (typeof schema.minLength === 'number') result.minLength = schema.minLength;
      result.maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : MAX_STRING_LENGTH;
    }
    return withCommon(schema, result);
  }
  if (type === 'integer') {
    const values = boundedIntegers(schema);
    if (values) return withCommon(schema, { enum: values });
  }
  const primitives = types.filter((candidate) => typeof candidate === 'string' && PRIMITIVE_TYPES.has(candidate));
  if (primitives.length) return withCommon(schema, { type: primitives.length === 1 ? primitives[0] : primitives });
  if (isObject(schema.properties)) return withCommon(schema, convertObject(schema));
  if (schema.items !== undefined || schema.prefixItems !== undefined) return withCommon(schema, convertArray(schema));
  return ANY_JSON;
}

const MAX_ENUMERATED_INTEGERS = 101;

/**
 * Characters a string without its own `maxLength` may hold. Small local models otherwise run to
 * the token limit inside one endless string (e.g. a rationale), and the reply is not JSON.
 */
export const MAX_STRING_LENGTH = 400;

function boundedIntegers(schema: JsonObject): number[] | undefined {
  const lowest =
    typeof schema.minimum === 'number'
      ? Math.ceil(schema.minimum)
      : typeof schema.exclusiveMinimum === 'number'
        ? Math.floor(schema.exclusiveMinimum) + 1
        : undefined;
  const highest =
    typeof schema.maximum === 'number'
      ? Math.floor(schema.maximum)
      : typeof schema.exclusiveMaximum === 'number'
        ? Math.ceil(schema.exclusiveMaximum) - 1
        : undefined;
  if (lowest === undefined || highest === undefined || highest < lowest) return undefined;
  if (highest - lowest + 1 > MAX_ENUMERATED_INTEGERS) return undefined;
  return Array.from({ length: highest - lowest + 1 }, (_, index) => lowest + index);
}

function convertObject(schema: JsonObject): JsonObject {
  const result: JsonObject = { type: 'object' };
  const properties = isObject(schema.properties) ? schema.properties : {};
  const names = Object.keys(properties);
  if (names.length) {
    result.properties = Object.fromEntries(names.map((name) => [name, convert(properties[name])]));
  }
  const additional = schema.additionalProperties;
  if (isObject(additional)) result.additionalProperties = convert(additional);
  else if (additional === true || (additional === undefined && names.length === 0)) result.additionalProperties = true;
  else result.additionalProperties = false;
  if (result.additionalProperties !== false) {
    if (typeof schema.minProperties === 'number') result.minProperties = schema.minProperties;
    if (typeof schema.maxProperties === 'number') result.maxProperties = schema.maxProperties;
  }
  return result;
}

function convertArray(schema: JsonObject): JsonObject {
  const result: JsonObject = { type: 'array' };
  const prefixItems = Array.isArray(schema.prefixItems) ? schema.prefixItems : undefined;
  if (prefixItems) result.prefixItems = prefixItems.map(convert);
  if (isObject(schema.items)) result.items = convert(schema.items);
  if (typeof schema.minItems === 'number') result.minItems = schema.minItems;
  if (typeof schema.maxItems === 'number') result.maxItems = schema.maxItems;
  if (schema.items === false && prefixItems) result.maxItems = prefixItems.length;
  return result;
}
