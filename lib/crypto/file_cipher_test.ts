import { expect } from "expect";
import { codeOf } from "@fastchat/testing";
import {
  FILE_CHUNK_BYTES,
  FILE_CHUNK_OVERHEAD,
  fileChunkCount,
  fileKeyFrom,
  newFileKey,
  openFileChunk,
  sealFileChunk,
} from "./file_cipher.ts";

Deno.test("file chunks round-trip and carry a fixed overhead", () => {
  const fk = newFileKey();
  const data = crypto.getRandomValues(new Uint8Array(1000));
  const sealed = sealFileChunk(fk, 7, false, data);
  expect(sealed.length).toBe(data.length + FILE_CHUNK_OVERHEAD);
  expect(openFileChunk(fk, 7, false, sealed)).toEqual(data);
  const again = fileKeyFrom(fk.raw, fk.id);
  expect(openFileChunk(again, 7, false, sealed)).toEqual(data);
});

Deno.test("a chunk opens only at its own index, with its own last flag, in its own file", () => {
  const fk = newFileKey();
  const sealed = sealFileChunk(fk, 2, false, new Uint8Array([1, 2, 3]));
  expect(codeOf(() => openFileChunk(fk, 3, false, sealed))).toBe("DECRYPT_FAILED"); // reordered
  expect(codeOf(() => openFileChunk(fk, 2, true, sealed))).toBe("DECRYPT_FAILED"); // truncation
  const other = fileKeyFrom(fk.raw, crypto.getRandomValues(new Uint8Array(16)));
  expect(codeOf(() => openFileChunk(other, 2, false, sealed))).toBe("DECRYPT_FAILED"); // other file
  const flipped = sealed.slice();
  flipped[flipped.length - 20] ^= 1;
  expect(codeOf(() => openFileChunk(fk, 2, false, flipped))).toBe("DECRYPT_FAILED");
  expect(codeOf(() => openFileChunk(fk, 2, false, sealed.subarray(0, 20)))).toBe("DECRYPT_FAILED");
  expect(openFileChunk(fk, 2, false, sealed)).toEqual(new Uint8Array([1, 2, 3]));
});

Deno.test("chunk counts: an empty file is one empty last chunk", () => {
  expect(fileChunkCount(0)).toBe(1);
  expect(fileChunkCount(1)).toBe(1);
  expect(fileChunkCount(FILE_CHUNK_BYTES)).toBe(1);
  expect(fileChunkCount(FILE_CHUNK_BYTES + 1)).toBe(2);
  expect(fileChunkCount(100 * 1024 * 1024)).toBe(400);
  expect(codeOf(() => fileChunkCount(-1))).toBe("BAD_REQUEST");
  expect(codeOf(() => fileChunkCount(1.5))).toBe("BAD_REQUEST");
});

Deno.test("bad key material is refused", () => {
  const fk = newFileKey();
  expect(codeOf(() => fileKeyFrom(fk.raw, new Uint8Array(15)))).toBe("BAD_REQUEST");
  expect(codeOf(() => fileKeyFrom(new Uint8Array(31), fk.id))).toBe("BAD_REQUEST");
  expect(codeOf(() => sealFileChunk(fk, -1, false, new Uint8Array(1)))).toBe("BAD_REQUEST");
});
