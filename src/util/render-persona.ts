/** Renders persona attributes as a bullet list, one attribute per line ("- I have two dogs."). */
export function renderPersona(attributes: readonly string[]): string {
  return attributes.map((attribute) => `- ${attribute}`).join('\n');
}
