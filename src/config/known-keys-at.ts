import type { z } from 'zod';

/** The zod internals walked here: wrappers name their inner schema, objects their shape, records their values. */
interface SchemaDefinition {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
}

const definitionOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: SchemaDefinition } })._zod.def;

/** Looks through defaults, prefaults, optionals, nullables and pipes to the schema that holds the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const definition = definitionOf(current);
    const inner = definition.innerType ?? (definition.type === 'pipe' ? definition.in : undefined);
    if (!inner) return current;
    current = inner;
  }
}

/**
 * The keys an object schema accepts at `path` (e.g. `['llm']` -> `base_url`, `model`, …), for
 * "did you mean" suggestions; record values are walked through, so `prices.<model>` works too.
 * An empty list when the path does not lead to an object.
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const key of path) {
    const definition = definitionOf(current);
    if (definition.type === 'object') current = definition.shape?.[String(key)];
    else if (definition.type === 'record') current = definition.valueType;
    else return [];
    if (!current) return [];
    current = unwrap(current);
  }
  const definition = definitionOf(current);
  return definition.type === 'object' ? Object.keys(definition.shape ?? {}) : [];
}
