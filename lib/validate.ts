/**
 * Tiny, fast validators for inbound frames. Each {@link Validator} checks an
 * unknown value and returns it typed, or throws `BAD_REQUEST` naming the field.
 * Hand-written (not a schema library) because they run on every frame.
 *
 * @example
 * ```ts
 * import { object, str, int } from "@fastchat/lib/validate";
 * const point = object({ name: str(1, 8), x: int(0, 10) });
 * point({ name: "a", x: 3 }); // ok, typed { name: string; x: number }
 * ```
 * @module
 */
import { FastChatError } from "./errors.ts";

/** Checks `value` (found at `path`) and returns it typed. */
export type Validator<T> = (value: unknown, path?: string) => T;
/** The type a validator produces. */
export type Infer<V> = V extends Validator<infer T> ? T : never;

function fail(path: string, what: string): never {
  throw new FastChatError("BAD_REQUEST", `${path || "frame"}: ${what}`, { field: path });
}

/** A string of `min`..`max` UTF-16 units, optionally matching `pattern`. */
export function str(min: number, max: number, pattern?: RegExp): Validator<string> {
  return (v, path = "") => {
    if (typeof v !== "string") fail(path, "expected a string");
    if (v.length < min || v.length > max) fail(path, `length must be ${min}..${max}`);
    if (pattern && !pattern.test(v)) fail(path, "has an invalid format");
    return v;
  };
}

/** An integer in `min`..`max`. */
export function int(min: number, max: number): Validator<number> {
  return (v, path = "") => {
    if (typeof v !== "number" || !Number.isInteger(v)) fail(path, "expected an integer");
    if (v < min || v > max) fail(path, `must be in ${min}..${max}`);
    return v;
  };
}

/** A boolean. */
export function boolean(): Validator<boolean> {
  return (v, path = "") => {
    if (typeof v !== "boolean") fail(path, "expected a boolean");
    return v;
  };
}

/** A byte string of `min`..`max` bytes. */
export function bytes(min: number, max: number): Validator<Uint8Array> {
  return (v, path = "") => {
    if (!(v instanceof Uint8Array)) fail(path, "expected bytes");
    if (v.length < min || v.length > max) fail(path, `size must be ${min}..${max} bytes`);
    return v;
  };
}

/** One of the given literal values. */
export function oneOf<const T extends readonly (string | number)[]>(
  ...values: T
): Validator<T[number]> {
  const set = new Set<unknown>(values);
  return (v, path = "") => {
    if (!set.has(v)) fail(path, `must be one of ${values.join(", ")}`);
    return v as T[number];
  };
}

/** A value that may be absent (`undefined` or `null`, both read as `undefined`). */
export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return (v, path) => (v === undefined || v === null ? undefined : inner(v, path));
}

/** An array of `min`..`max` items, each checked by `item`. */
export function array<T>(item: Validator<T>, min: number, max: number): Validator<T[]> {
  return (v, path = "") => {
    if (!Array.isArray(v)) fail(path, "expected an array");
    if (v.length < min || v.length > max) fail(path, `must have ${min}..${max} items`);
    for (let i = 0; i < v.length; i++) {
      try {
        item(v[i]);
      } catch {
        item(v[i], `${path}[${i}]`); // throws again, now naming where
      }
    }
    return v as T[];
  };
}

/** A fixed-length tuple. */
export function tuple<T extends unknown[]>(
  ...items: { [K in keyof T]: Validator<T[K]> }
): Validator<T> {
  return (v, path = "") => {
    if (!Array.isArray(v) || v.length !== items.length) {
      fail(path, `expected a tuple of ${items.length}`);
    }
    for (let i = 0; i < items.length; i++) {
      try {
        items[i](v[i]);
      } catch {
        items[i](v[i], `${path}[${i}]`); // throws again, now naming where
      }
    }
    return v as T;
  };
}

/** Shape of an object validator's result. */
export type ObjectOf<S extends Record<string, Validator<unknown>>> =
  & { [K in keyof S as undefined extends Infer<S[K]> ? never : K]: Infer<S[K]> }
  & { [K in keyof S as undefined extends Infer<S[K]> ? K : never]?: Infer<S[K]> };

/**
 * A plain object with exactly the listed fields (unknown fields are rejected
 * so that mistakes surface instead of being silently ignored).
 */
export function object<S extends Record<string, Validator<unknown>>>(
  shape: S,
): Validator<ObjectOf<S>> {
  const keys = Object.keys(shape);
  const allowed = new Set(keys);
  return (v, path = "") => {
    if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) {
      fail(path, "expected an object");
    }
    const o = v as Record<string, unknown>;
    for (const k in o) {
      if (!allowed.has(k)) fail(path ? `${path}.${k}` : k, "unknown field");
    }
    for (const k of keys) {
      if (!path) shape[k](o[k], k);
      else {
        try {
          shape[k](o[k]);
        } catch {
          shape[k](o[k], `${path}.${k}`); // throws again, now naming where
        }
      }
    }
    return o as ObjectOf<S>;
  };
}
