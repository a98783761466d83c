/** Turns cached values into strings and back. */
export interface CacheCodec {
  encode(value: unknown): string;
  decode(text: string): unknown;
}

/** The default: JSON. `undefined`, functions and symbols cannot be cached. */
export const jsonCodec: CacheCodec = {
  encode(value) {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new TypeError(`cannot cache a value of type ${typeof value}: JSON has no representation for it`);
    return text;
  },
  decode: (text) => JSON.parse(text) as unknown,
};
